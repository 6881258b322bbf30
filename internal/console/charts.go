package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/kagi-auth/kagi/internal/auth"
)

// The dashboard's charts (O6), drawn here as inline SVG: no chart library,
// no script, nothing fetched from elsewhere. Each chart carries a <title> and
// <desc> for screen readers, and the page shows the same figures as tables.
// Colours come from attributes (the CSP forbids style attributes); the
// stylesheet sets the font.

// Palette: distinguishable in colour and in grey.
const (
	colPasskey = "#1b7f5a" // green
	colTOTP    = "#2f5fb3" // blue
	colEmail   = "#d98a1c" // orange
	colOther   = "#8a8f98" // grey
	colLine    = "#1b7f5a"
	colGrid    = "#d9dde3"
	colAxis    = "#4a5160"
	colText    = "#1f2430"
)

type svg struct {
	b strings.Builder
}

func newSVG(w, h int, id, title, desc string) *svg {
	s := &svg{}
	fmt.Fprintf(&s.b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title %s-desc">`, w, h, id, id)
	fmt.Fprintf(&s.b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`, x1, y1, x2, y2, stroke, width)
}

func (s *svg) rect(x, y, w, h float64, fill, label string) {
	if h < 0 {
		y, h = y+h, -h
	}
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x, y, w, h, fill, esc(label))
}

func (s *svg) text(x, y float64, anchor, size, fill, text string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%s" fill="%s">%s</text>`, x, y, anchor, size, fill, esc(text))
}

func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) //nolint:gosec // every text went through esc
}

// niceMax rounds m up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(m int) int {
	if m <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(m))))
	for _, f := range []float64{1, 2, 5, 10} {
		if v := f * p; v >= float64(m) {
			return int(v)
		}
	}
	return m
}

// shareChart: the share of active customers with a passkey, week by week.
func shareChart(points []auth.AdoptionPoint) template.HTML {
	const w, h, left, right, top, bottom = 720, 300, 56, 24, 24, 44
	desc := "データなし"
	if n := len(points); n > 0 {
		last := points[n-1]
		desc = fmt.Sprintf("直近: アクティブ顧客 %d 人のうち %d 人（%.1f%%）がパスキーを保有", last.Active, last.WithPasskey, last.Share()*100)
	}
	s := newSVG(w, h, "chart-share", "アクティブ顧客のパスキー保有率（週ごと）", desc)
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	for _, pct := range []int{0, 25, 50, 75, 100} {
		y := top + ph - ph*float64(pct)/100
		s.line(left, y, left+pw, y, colGrid, 1)
		s.text(left-8, y+4, "end", "12", colAxis, fmt.Sprintf("%d%%", pct))
	}
	if len(points) == 0 {
		return s.html()
	}
	step := pw
	if len(points) > 1 {
		step = pw / float64(len(points)-1)
	}
	var path strings.Builder
	for i, p := range points {
		x := left + step*float64(i)
		if len(points) == 1 {
			x = left + pw/2
		}
		y := top + ph - ph*p.Share()
		if i == 0 {
			fmt.Fprintf(&path, "M%.1f %.1f", x, y)
		} else {
			fmt.Fprintf(&path, " L%.1f %.1f", x, y)
		}
		if (len(points)-1-i)%2 == 0 || len(points) <= 7 {
			s.text(x, h-bottom+18, "middle", "11", colAxis, p.At.In(tokyo).Format("1/2"))
		}
	}
	fmt.Fprintf(&s.b, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"/>`, path.String(), colLine)
	for i, p := range points {
		x := left + step*float64(i)
		if len(points) == 1 {
			x = left + pw/2
		}
		y := top + ph - ph*p.Share()
		fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>`, x, y, colLine,
			esc(fmt.Sprintf("%s: %d人中%d人（%.1f%%）", p.At.In(tokyo).Format("2006/01/02"), p.Active, p.WithPasskey, p.Share()*100)))
		if i == len(points)-1 {
			s.text(x, y-10, "end", "13", colText, fmt.Sprintf("%.1f%%", p.Share()*100))
		}
	}
	s.text(left+pw/2, h-6, "middle", "12", colAxis, "週（各時点から過去30日間にログインしたお客さまが対象）")
	return s.html()
}

// loginSeries are the stacked series of the logins chart.
var loginSeries = []struct {
	name, colour string
	count        func(auth.DayLogins) int
}{
	{"パスキー", colPasskey, func(d auth.DayLogins) int { return d.Passkey }},
	{"パスワード＋認証アプリ", colTOTP, func(d auth.DayLogins) int { return d.PasswordTOTP }},
	{"パスワード＋メール認証", colEmail, func(d auth.DayLogins) int { return d.PasswordEmail }},
	{"その他", colOther, func(d auth.DayLogins) int { return d.Other }},
}

// loginsChart: logins per day, stacked by method.
func loginsChart(days []auth.DayLogins) template.HTML {
	const w, h, left, right, top, bottom = 720, 320, 56, 16, 40, 40
	total, most := 0, 0
	for _, d := range days {
		total += d.Total()
		most = max(most, d.Total())
	}
	s := newSVG(w, h, "chart-logins", "ログイン方法別のログイン数（日ごと）", fmt.Sprintf("%d日間のログイン %d 件", len(days), total))
	// Legend.
	x := float64(left)
	for _, ser := range loginSeries {
		s.rect(x, 10, 12, 12, ser.colour, ser.name)
		s.text(x+16, 21, "start", "12", colText, ser.name)
		x += 24 + float64(len([]rune(ser.name)))*12
	}
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	top2 := niceMax(most)
	for i := 0; i <= 4; i++ {
		v := top2 * i / 4
		y := top + ph - ph*float64(v)/float64(top2)
		s.line(left, y, left+pw, y, colGrid, 1)
		s.text(left-8, y+4, "end", "12", colAxis, fmt.Sprint(v))
	}
	if len(days) == 0 {
		return s.html()
	}
	slot := pw / float64(len(days))
	bw := slot * 0.62
	for i, d := range days {
		x := left + slot*float64(i) + (slot-bw)/2
		y := top + ph
		for _, ser := range loginSeries {
			n := ser.count(d)
			if n == 0 {
				continue
			}
			bh := ph * float64(n) / float64(top2)
			y -= bh
			s.rect(x, y, bw, bh, ser.colour, fmt.Sprintf("%s %s: %d件", d.Day.In(tokyo).Format("1/2"), ser.name, n))
		}
		if d.Total() > 0 {
			s.text(x+bw/2, y-4, "middle", "11", colText, fmt.Sprint(d.Total()))
		}
		s.text(x+bw/2, h-bottom+16, "middle", "11", colAxis, d.Day.In(tokyo).Format("1/2"))
	}
	s.line(left, top+ph, left+pw, top+ph, colAxis, 1)
	return s.html()
}

// authenticatorsChart: active passkeys by authenticator, as horizontal bars.
func authenticatorsChart(list []auth.NameCount) template.HTML {
	const w, left, right, row = 560, 190, 56, 30
	h := 24 + row*max(len(list), 1)
	total := 0
	for _, nc := range list {
		total += nc.Count
	}
	s := newSVG(w, h, "chart-authenticators", "認証器（保存先）別のパスキー数", fmt.Sprintf("有効なパスキー %d 件", total))
	if len(list) == 0 {
		s.text(w/2, 28, "middle", "13", colAxis, "登録されたパスキーはまだありません")
		return s.html()
	}
	most := list[0].Count
	for _, nc := range list {
		most = max(most, nc.Count)
	}
	pw := float64(w - left - right)
	for i, nc := range list {
		y := float64(12 + row*i)
		s.text(left-10, y+row/2+1, "end", "13", colText, truncate(nc.Name, 24))
		bw := pw * float64(nc.Count) / float64(most)
		s.rect(left, y+4, bw, row-10, colTOTP, fmt.Sprintf("%s: %d件", nc.Name, nc.Count))
		s.text(left+bw+6, y+row/2+1, "start", "13", colText, fmt.Sprintf("%d件", nc.Count))
	}
	return s.html()
}

// syncedChart: active passkeys synced to a cloud account vs bound to a device.
func syncedChart(synced, bound int) template.HTML {
	const w, h, left, right = 560, 110, 16, 16
	total := synced + bound
	desc := "有効なパスキーはありません"
	if total > 0 {
		desc = fmt.Sprintf("同期 %d 件（%.1f%%）、この端末のみ %d 件（%.1f%%）", synced, pct(synced, total), bound, pct(bound, total))
	}
	s := newSVG(w, h, "chart-synced", "同期パスキーと端末固定パスキーの割合", desc)
	pw := float64(w - left - right)
	if total == 0 {
		s.rect(left, 34, pw, 30, colGrid, desc)
		s.text(w/2, 54, "middle", "13", colAxis, desc)
		return s.html()
	}
	sw := pw * float64(synced) / float64(total)
	s.rect(left, 34, sw, 30, colPasskey, fmt.Sprintf("同期（クラウド）: %d件", synced))
	s.rect(left+sw, 34, pw-sw, 30, colEmail, fmt.Sprintf("この端末のみ: %d件", bound))
	s.rect(left, 10, 12, 12, colPasskey, "同期（クラウド）")
	s.text(left+16, 21, "start", "12", colText, fmt.Sprintf("同期（クラウド） %d件 %.1f%%", synced, pct(synced, total)))
	s.rect(left+280, 10, 12, 12, colEmail, "この端末のみ")
	s.text(left+296, 21, "start", "12", colText, fmt.Sprintf("この端末のみ %d件 %.1f%%", bound, pct(bound, total)))
	s.text(left, 88, "start", "12", colAxis, "同期パスキーは機種変更後も使え、端末のみのものは紛失・故障で使えなくなります。")
	return s.html()
}

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}
