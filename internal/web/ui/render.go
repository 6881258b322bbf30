// Package ui renders kagi's customer pages: view models, html/template
// files, the stylesheet and the handler for static files, all embedded.
//
// Templates are parsed once at startup into one set per language and page,
// each with a "t" function bound to that language's catalog, so rendering
// needs no per-request Clone. Templates contain no inline script or style
// so that the strict Content-Security-Policy holds.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kagi-auth/kagi/internal/locale"
)

//go:embed templates
var templateFS embed.FS

// Pages lists every page Render knows. Each has templates/pages/<name>.html.
var Pages = []string{
	"login",
	"second_factor",
	"setup_email",
	"setup_email_verify",
	"setup_method",
	"setup_totp",
	"account",
	"passkeys",
	"passkey_delete",
	"locked",
	"guide_start",
	"error",
	// issue 6: the mandatory phase and the demo trading site (views_trade.go)
	"trade",
	"trade_order",
	"trade_withdraw",
	"trade_withdraw_confirm",
	"trade_bank_account",
	"trade_bank_account_confirm",
	"account_email",
	"account_logins",
	"account_restricted",
	"inquiry", // issue 7: the inquiry form and the e-mail change confirmation (views_inquiry.go)
}

// Renderer renders pages and serves static files.
type Renderer struct {
	sets   map[string]map[string]*template.Template // lang → page → set
	assets *assets
}

// New parses every template and hashes every static file. It fails when a
// page in Pages has no template (or a template has no page), or when a
// template does not parse.
func New() (*Renderer, error) {
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	r := &Renderer{sets: make(map[string]map[string]*template.Template), assets: as}

	entries, err := fs.ReadDir(templateFS, "templates/pages")
	if err != nil {
		return nil, fmt.Errorf("ui: read pages: %w", err)
	}
	var files []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".html")
		if !ok || e.IsDir() {
			continue
		}
		if !slices.Contains(Pages, name) {
			return nil, fmt.Errorf("ui: template %s has no entry in Pages", e.Name())
		}
		files = append(files, name)
	}
	for _, p := range Pages {
		if !slices.Contains(files, p) {
			return nil, fmt.Errorf("ui: page %q has no template", p)
		}
	}

	common := []string{"templates/layout.html", "templates/partials.html"}
	for _, lang := range locale.Supported {
		r.sets[lang] = make(map[string]*template.Template, len(Pages))
		for _, page := range Pages {
			t, err := template.New(page).
				Funcs(r.funcs(lang, page)).
				ParseFS(templateFS, append(common, "templates/pages/"+page+".html")...)
			if err != nil {
				return nil, fmt.Errorf("ui: parse %s (%s): %w", page, lang, err)
			}
			for _, name := range []string{"layout", "title", "content"} {
				if t.Lookup(name) == nil {
					return nil, fmt.Errorf("ui: page %s does not define %q", page, name)
				}
			}
			r.sets[lang][page] = t
		}
	}
	return r, nil
}

// Render executes page with v (a view embedding Base, by value or pointer)
// in v's language into a buffer, then writes it with status. Nothing is
// written when rendering fails, so the caller may still send an error page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page string, v any) error {
	bv, ok := v.(baser)
	if !ok {
		return fmt.Errorf("ui: render %s: view %T does not embed ui.Base", page, v)
	}
	lang := bv.base().Lang
	if !locale.IsSupported(lang) {
		lang = locale.Default
	}
	t, ok := r.sets[lang][page]
	if !ok {
		return fmt.Errorf("ui: render: unknown page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("ui: render %s (%s): %w", page, lang, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// funcs returns the template functions of one language and page.
func (r *Renderer) funcs(lang, page string) template.FuncMap {
	p := locale.Printer(lang)
	return template.FuncMap{
		"t":    p.T,
		"lang": func() string { return lang },
		"base": func(v any) (Base, error) {
			if b, ok := v.(baser); ok {
				return b.base(), nil
			}
			return Base{}, fmt.Errorf("%T does not embed ui.Base", v)
		},
		"site": func(b Base) string {
			if b.SiteName != "" {
				return b.SiteName
			}
			return p.T("site.name")
		},
		"asset": func(name string) (string, error) {
			if _, ok := r.assets.byName[name]; !ok {
				return "", fmt.Errorf("unknown asset %q", name)
			}
			return r.AssetURL(name), nil
		},
		// scripts lists the module scripts of this page: static/js/app.js
		// on every page and static/js/<page>.js, when those files exist.
		"scripts": func() []string {
			var urls []string
			for _, name := range []string{"js/app.js", "js/" + page + ".js"} {
				if _, ok := r.assets.byName[name]; ok {
					urls = append(urls, r.AssetURL(name))
				}
			}
			return urls
		},
		"langURL":    langURL,
		"tel":        telURL,
		"statusKey":  statusKey,
		"methodKey":  func(kind, v string) string { return "method." + kind + "." + v },
		"stepStatus": stepStatus,
		"list":       func(xs ...string) []string { return xs },
		"add":        func(a, b int) int { return a + b },
		"codeField": func(label, hint, pageError string) codeField {
			return codeField{Label: label, Hint: hint, Error: pageError != ""}
		},
		// quietCodeField is codeField without autofocus, for a code form
		// that is not the first thing on its page.
		"quietCodeField": func(label, hint, pageError string) codeField {
			return codeField{Label: label, Hint: hint, Error: pageError != "", NoFocus: true}
		},
		"join": func(xs []string) string { return strings.Join(xs, ",") },
	}
}

// codeField is the data of the "code_field" partial: catalog keys of the
// label and hint, whether the page shows an error banner to link to, and
// whether the field must not take the focus on load.
type codeField struct {
	Label, Hint string
	Error       bool
	NoFocus     bool
}

// langURL returns path with lang=<lang> in its query. Anything that is not
// a local absolute path becomes "/", so the link never leaves the site.
func langURL(p, lang string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		u = &url.URL{Path: "/"}
	}
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String()
}

// telURL turns "0120-99-1234" into a tel: URL; only digits and a leading +
// are kept, so the result is safe to mark as a URL.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, c := range strings.TrimSpace(phone) {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= '０' && c <= '９':
			b.WriteRune('0' + (c - '０'))
		case c == '+' && i == 0:
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return template.URL("tel:" + b.String())
}

// statusKey returns the catalog key of an error page's heading.
func statusKey(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusTooManyRequests,
		http.StatusServiceUnavailable:
		return fmt.Sprintf("error_page.heading.%d", status)
	}
	if status >= 400 && status < 500 {
		return "error_page.heading.400"
	}
	return "error_page.heading.500"
}

// stepStatus tells the setup progress list whether step is done, current or
// still to come.
func stepStatus(step, current int) string {
	switch {
	case step < current:
		return "done"
	case step == current:
		return "current"
	}
	return "todo"
}
