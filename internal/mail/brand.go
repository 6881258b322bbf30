package mail

// Brand holds the brokerage names and call-center contact printed in every mail.
// The Japanese fields are the source; the EN fields are their English
// equivalents for mails in English and fall back to the Japanese field when empty.
type Brand struct {
	Site       string // the trading site, e.g. "ホームトレード"
	Brokerage  string // the company, e.g. "ホームトレード証券"
	CallCenter string // who to call, e.g. "テレホントレードセンター"
	Phone      string // printed as is in both languages
	Hours      string // the call center's opening hours

	SiteEN       string
	BrokerageEN  string
	CallCenterEN string
	HoursEN      string
}

// DefaultBrand is the brokerage of the seed notice.
func DefaultBrand() Brand {
	return Brand{
		Site:       "ホームトレード",
		Brokerage:  "ホームトレード証券",
		CallCenter: "テレホントレードセンター",
		Phone:      "0120-99-1234",
		Hours:      "平日 8:45～16:00",

		SiteEN:       "Home Trade",
		BrokerageEN:  "Home Trade Securities",
		CallCenterEN: "Telephone Trade Center",
		HoursEN:      "weekdays 8:45–16:00 JST",
	}
}

// forLang picks the names of one language.
func (b Brand) forLang(lang string) brandView {
	if lang != LangEN {
		return brandView{b.Site, b.Brokerage, b.CallCenter, b.Phone, b.Hours}
	}
	return brandView{
		Site:       orDefault(b.SiteEN, b.Site),
		Brokerage:  orDefault(b.BrokerageEN, b.Brokerage),
		CallCenter: orDefault(b.CallCenterEN, b.CallCenter),
		Phone:      b.Phone,
		Hours:      orDefault(b.HoursEN, b.Hours),
	}
}

type brandView struct {
	Site, Brokerage, CallCenter, Phone, Hours string
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
