package ui

import (
	"fmt"
	"strings"
	"testing"
)

// inquirySamples returns the issue-7 page (merged into samples).
func inquirySamples(lang string) map[string]any {
	return map[string]any{
		"inquiry": InquiryView{Base: sampleBase(lang, "/inquiry", false), CustomerCode: "1234567", Name: "山田 太郎",
			Email: "taro.new@example.jp", Topic: "email_change", Message: "機種変更で以前のメールが受け取れません。", Invalid: []string{"email"}},
	}
}

// TestRenderInquiryVariants: the acknowledgement, every invalid field, the
// completed confirmation (O2).
func TestRenderInquiryVariants(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"ja", "en"} {
		b := sampleBase(lang, "/inquiry", false)
		b.Notice = ""
		variants := []InquiryView{
			{Base: b},
			{Base: b, Sent: true, Receipt: 42},
			{Base: b, Invalid: []string{"customer_code", "name", "email", "topic", "message"}, Topic: "other"},
			{Base: b, Verified: true, VerifyCode: "1234567"},
			{Base: Base{Lang: lang}, Topic: "login_trouble"},
		}
		for i, v := range variants {
			t.Run(fmt.Sprintf("%s/%d", lang, i), func(t *testing.T) {
				body := render(t, r, "inquiry", v)
				checkPage(t, lang, body, v.Base)
				if v.Sent != strings.Contains(body, `id="inquiry-done"`) || v.Sent == strings.Contains(body, `id="inquiry-form"`) {
					t.Error("the form or the acknowledgement is shown wrongly")
				}
				if v.Sent && !strings.Contains(body, "42") {
					t.Error("no receipt number")
				}
				if got := strings.Count(body, `aria-invalid="true"`); got != len(v.Invalid) && !v.Sent {
					t.Errorf("%d fields marked invalid, want %d", got, len(v.Invalid))
				}
				if v.Verified != strings.Contains(body, `id="verify-done"`) || v.Verified == strings.Contains(body, `id="verify-form"`) {
					t.Error("the confirmation form or its result is shown wrongly")
				}
			})
		}
	}
	ja := render(t, r, "inquiry", InquiryView{Base: Base{Lang: "ja"}})
	for _, want := range []string{"お問い合わせフォーム", "メールアドレス", "ご相談内容", "メールアドレス変更希望", `name="form" value="inquiry"`, `name="form" value="verify"`, `action="/inquiry"`} {
		if !strings.Contains(ja, want) {
			t.Errorf("the Japanese page lacks %q", want)
		}
	}
}
