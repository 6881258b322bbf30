// Package locale holds kagi's message catalogs (Japanese first, English
// second) and picks the language of a request.
//
// Catalogs are flat JSON objects with dotted keys ("login.title",
// "error.invalid_credentials"). ja.json is the reference catalog; a test
// checks that en.json has exactly the same keys and the same format verbs.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Default is the language used when nothing better is known.
const Default = "ja"

// CookieName is the cookie that remembers a customer's language choice.
// Negotiate reads it; the handler that honours ?lang= may set it.
const CookieName = "lang"

// Supported lists the languages that have a catalog, reference first.
var Supported = []string{"ja", "en"}

//go:embed ja.json en.json
var files embed.FS

var printers = mustLoad()

func mustLoad() map[string]*P {
	m := make(map[string]*P, len(Supported))
	for _, lang := range Supported {
		data, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(fmt.Sprintf("locale: read %s.json: %v", lang, err))
		}
		var msgs map[string]string
		if err := json.Unmarshal(data, &msgs); err != nil {
			panic(fmt.Sprintf("locale: parse %s.json: %v", lang, err))
		}
		m[lang] = &P{lang: lang, msgs: msgs}
	}
	return m
}

// P prints the messages of one language.
type P struct {
	lang string
	msgs map[string]string
}

// Printer returns the printer for lang, or the Japanese one when lang is not
// supported.
func Printer(lang string) *P {
	if p, ok := printers[lang]; ok {
		return p
	}
	return printers[Default]
}

// Lang reports the printer's language.
func (p *P) Lang() string { return p.lang }

// T returns the message for key, formatted with args as by fmt.Sprintf when
// args are given. A missing key returns the key itself, so that it shows up
// on the page instead of failing.
func (p *P) T(key string, args ...any) string {
	msg, ok := p.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether the catalog of p has key.
func (p *P) Has(key string) bool {
	_, ok := p.msgs[key]
	return ok
}

// Keys returns the sorted keys of lang's catalog (nil if lang is not
// supported).
func Keys(lang string) []string {
	p, ok := printers[lang]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(p.msgs))
	for k := range p.msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// IsSupported reports whether lang is exactly one of Supported.
func IsSupported(lang string) bool { return slices.Contains(Supported, lang) }

// Normalize maps a language tag such as "ja-JP" or "EN_us" to a supported
// language, or returns "" when it is none of them.
func Normalize(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if IsSupported(tag) {
		return tag
	}
	return ""
}

// Negotiate picks the language of a request: the ?lang= query parameter
// first, then the lang cookie, then the first supported language of
// Accept-Language by quality, and Japanese by default.
func Negotiate(r *http.Request) string {
	if lang := Normalize(r.URL.Query().Get("lang")); lang != "" {
		return lang
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if lang := Normalize(c.Value); lang != "" {
			return lang
		}
	}
	if lang := fromAcceptLanguage(r.Header.Values("Accept-Language")); lang != "" {
		return lang
	}
	return Default
}

// fromAcceptLanguage returns the supported language with the highest quality
// in the Accept-Language header values; ties keep the header's order.
func fromAcceptLanguage(values []string) string {
	type entry struct {
		lang string
		q    float64
	}
	var entries []entry
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			tag, params, _ := strings.Cut(part, ";")
			lang := Normalize(tag)
			if lang == "" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || strings.ToLower(strings.TrimSpace(name)) != "q" {
					continue
				}
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
			if q > 0 {
				entries = append(entries, entry{lang, q})
			}
		}
	}
	if len(entries) == 0 {
		return ""
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].q > entries[j].q })
	return entries[0].lang
}
