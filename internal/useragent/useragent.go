// Package useragent turns a browser's User-Agent header into a short description
// such as "Chrome (Windows)" for notification mails and the login history (SPEC P4, P8).
//
// It is deliberately plain substring matching: the description only has to help a
// customer recognise their own device, and a UA string is attacker-controlled, so
// nothing here is trusted for security decisions.
package useragent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFallbackRunes bounds the raw UA shown when no browser is recognised, so a
// crafted header cannot fill a mail or a history row.
const maxFallbackRunes = 60

// browser is one product token to look for. Order matters: Chromium-based
// browsers also send "Chrome/" and every iOS browser and Chrome also send
// "Safari/", so the more specific tokens come first.
type browser struct {
	token string
	name  string
}

var browsers = []browser{
	// In-app browsers common in Japan; they embed WebView/WKWebView and would
	// otherwise be reported as Chrome or Safari.
	{"Line/", "LINE"},
	// iOS browsers: all WebKit underneath, so they carry "Safari/" and "Version/".
	{"EdgiOS/", "Edge"},
	{"CriOS/", "Chrome"},
	{"FxiOS/", "Firefox"},
	{"OPiOS/", "Opera"},
	{"OPT/", "Opera"},
	// Chromium-based browsers before Chrome.
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"Edge/", "Edge"}, // legacy EdgeHTML
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
	{"Firefox/", "Firefox"},
	// Safari last: only a WebKit UA that matched none of the above is Safari.
	{"Safari/", "Safari"},
	{"MSIE ", "Internet Explorer"},
	{"Trident/", "Internet Explorer"},
}

// platform is one OS/device marker. iOS devices come before Mac because their
// UAs say "like Mac OS X"; Android and ChromeOS before Linux because theirs say "Linux".
type platform struct {
	token string
	name  string
}

var platforms = []platform{
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"iPod", "iPod"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	// iPadOS 13+ Safari asks for desktop sites with a Mac UA; it cannot be told
	// apart here and is reported as macOS.
	{"Macintosh", "macOS"},
	{"Mac OS X", "macOS"},
	{"Linux", "Linux"},
	{"X11", "Linux"},
}

// Describe returns e.g. "Chrome (Windows)", "Safari (iPhone)" or "Firefox (macOS)".
// A browser without a recognisable platform gives just the browser's name. An
// unrecognised UA is returned cleaned (no control characters or URLs) and cut to
// 60 runes. An empty UA gives "": callers word "unknown" in their own language.
func Describe(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return ""
	}
	name := ""
	for _, b := range browsers {
		if strings.Contains(ua, b.token) {
			name = b.name
			break
		}
	}
	if name == "" {
		return fallback(ua)
	}
	// A "Safari/" token without "Version/" is not Safari: it is some other WebKit
	// or Blink client we do not know (embedded views, bots); show the raw UA.
	if name == "Safari" && !strings.Contains(ua, "Version/") && !isIOS(ua) {
		return fallback(ua)
	}
	// Android's pre-Chrome stock browser also looked like Safari.
	if name == "Safari" && strings.Contains(ua, "Android") {
		name = "Android Browser"
	}
	for _, p := range platforms {
		if strings.Contains(ua, p.token) {
			return name + " (" + p.name + ")"
		}
	}
	return name
}

func isIOS(ua string) bool {
	return strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod")
}

// fallback cleans an unrecognised UA for display: control characters could
// forge extra lines in a plain-text mail, and URLs (bots often carry
// "+http://...") must not appear in a mail that warns customers about links.
func fallback(ua string) string {
	fields := strings.FieldsFunc(ua, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	})
	kept := fields[:0]
	for _, f := range fields {
		if looksLikeURL(f) {
			continue
		}
		kept = append(kept, f)
	}
	s := strings.Join(kept, " ")
	if utf8.RuneCountInString(s) > maxFallbackRunes {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:maxFallbackRunes-1])) + "…"
	}
	return s
}

func looksLikeURL(f string) bool {
	l := strings.ToLower(f)
	return strings.Contains(l, "://") || strings.Contains(l, "www.") || strings.Contains(l, "http:") || strings.Contains(l, "https:")
}
