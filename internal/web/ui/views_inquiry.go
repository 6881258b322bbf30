package ui

import "slices"

// InquiryView is お問い合わせフォーム (GET /inquiry, POST /inquiry), issue 7,
// SPEC O2: the inquiry form (POST field form=inquiry: customer_code, name,
// email, topic = email_change | login_trouble | other, message) and, below it,
// メールアドレス変更の確認 (form=verify: customer_code, code), where a customer
// enters the code an approved e-mail change mailed to the new address.
type InquiryView struct {
	Base
	CustomerCode, Name, Email, Topic, Message string
	// Invalid names the inquiry fields to correct ("customer_code", "name",
	// "email", "topic", "message"); each is marked aria-invalid with a hint.
	Invalid []string
	// Sent shows the acknowledgement (with the receipt number) instead of the form.
	Sent    bool
	Receipt int64
	// VerifyCode prefills the customer code of the confirmation form;
	// Verified shows that the e-mail change is complete.
	VerifyCode string
	Verified   bool
}

// Bad reports whether field must be corrected.
func (v InquiryView) Bad(field string) bool { return slices.Contains(v.Invalid, field) }
