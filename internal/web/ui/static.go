package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

type asset struct {
	data        []byte
	hash        string // hex, 16 characters of SHA-256
	contentType string
}

type assets struct {
	byName map[string]*asset // "app.css", "js/login.js"
}

var contentTypes = map[string]string{
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
}

// loadAssets reads and hashes every file under static/.
func loadAssets() (*assets, error) {
	as := &assets{byName: make(map[string]*asset)}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(p)
		ct, ok := contentTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		as.byName[strings.TrimPrefix(p, "static/")] = &asset{
			data:        data,
			hash:        hex.EncodeToString(sum[:8]),
			contentType: ct,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: load static files: %w", err)
	}
	if _, ok := as.byName["app.css"]; !ok {
		return nil, fmt.Errorf("ui: static/app.css is missing")
	}
	return as, nil
}

// AssetURL returns the versioned URL of a static file, e.g.
// "/static/app.css?v=0123456789abcdef". An unknown name gets its plain URL.
func (r *Renderer) AssetURL(name string) string {
	a, ok := r.assets.byName[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + a.hash
}

// StaticHandler serves the embedded static/ directory under /static/
// (mount it at "GET /static/"). A URL whose ?v= matches the file's hash is
// cached for a year as immutable; any other URL of a known file (such as a
// module imported by a relative path) is served with no-cache and an ETag.
// Unknown files are 404.
func (r *Renderer) StaticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name, err := cleanAssetPath(req.URL.Path)
		a, ok := r.assets.byName[name]
		if err != nil || !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+a.hash+`"`)
		if req.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(a.data))
	})
}

var errNotFound = errors.New("not found")

// cleanAssetPath maps a request path to an asset name ("app.css",
// "js/login.js").
func cleanAssetPath(p string) (string, error) {
	name, ok := strings.CutPrefix(p, "/static/")
	if !ok {
		// Mounted behind http.StripPrefix("/static", ...) or ("/static/", ...).
		name = strings.TrimPrefix(p, "/")
	}
	if name == "" || path.Clean(name) != name || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "/") {
		return "", errNotFound
	}
	return name, nil
}
