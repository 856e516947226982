// Package web is Hookline's browser UI: the sign-in page, the connections
// list with the Create/Edit Connection dialog, the delivery log, and the
// pages of HTTP sources, monitors, scheduled searches and alerts. It owns
// the pages' templates, scripts and styles, embedded in the binary, and the
// headers they are served with.
//
// The pages are shells that hold no data: their scripts call the REST API
// under /api/v1 with the session cookie, so the API's guard decides what
// anyone may see or do; the pages only leave out what it would refuse. That
// is also why the UI is served without authentication.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// ContentSecurityPolicy is sent with every page and asset: scripts and
// styles only from the server's own files, so nothing inline runs, and no
// framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// contentTypes are the only kinds of asset the UI ships; an embedded file of
// any other kind is a mistake that Handler refuses to start with.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

// page is one HTML page: the template file that fills the layout, and the
// item of the main navigation it belongs to.
type page struct {
	file, nav string
	signedIn  bool // shows the navigation and the sign-out button
}

// connectionPath matches the dialog's own addresses, so that a link to
// /ui/connections/new?type=AWSLambda or /ui/connections/<id> opens it.
var connectionPath = regexp.MustCompile(`^/ui/connections/(new|[0-9A-Fa-f]{16})$`)

// monitorPath and searchPath are the addresses of a monitor's and a
// scheduled search's dialog, which the alerts list links to.
var (
	monitorPath = regexp.MustCompile(`^/ui/monitors/(new|[0-9A-Fa-f]{16})$`)
	searchPath  = regexp.MustCompile(`^/ui/searches/(new|[0-9A-Fa-f]{16})$`)
)

func pageFor(p string) (page, bool) {
	switch {
	case p == "/ui/login":
		return page{file: "login", nav: ""}, true
	case p == "/ui/connections" || connectionPath.MatchString(p):
		return page{file: "connections", nav: "connections", signedIn: true}, true
	case p == "/ui/deliveries":
		return page{file: "deliveries", nav: "deliveries", signedIn: true}, true
	case p == "/ui/sources":
		return page{file: "sources", nav: "sources", signedIn: true}, true
	case p == "/ui/monitors" || monitorPath.MatchString(p):
		return page{file: "monitors", nav: "monitors", signedIn: true}, true
	case p == "/ui/searches" || searchPath.MatchString(p):
		return page{file: "searches", nav: "searches", signedIn: true}, true
	case p == "/ui/alerts":
		return page{file: "alerts", nav: "alerts", signedIn: true}, true
	case p == "/ui/search":
		// Also where the alerts of monitors and scheduled searches link
		// to ({{QueryURL}}).
		return page{file: "search", nav: "search", signedIn: true}, true
	}
	return page{}, false
}

type asset struct {
	body        []byte
	contentType string
}

type handler struct {
	pages   map[string]*template.Template // by page file
	assets  map[string]asset              // by name under static/
	version string                        // hash of every asset, in their URLs
}

// Handler serves the UI under /ui/: the pages, and the assets under
// /ui/static/<version>/ with a version that changes whenever any asset does,
// so browsers may cache them for good. It expects the full request path
// (no prefix stripped) and answers GET and HEAD.
func Handler() http.Handler {
	h, err := newHandler()
	if err != nil {
		// The files are embedded: this is a defect of the build, which the
		// package's tests catch, not a condition to handle at run time.
		panic(fmt.Sprintf("web: %v", err))
	}
	return h
}

func newHandler() (*handler, error) {
	h := &handler{pages: map[string]*template.Template{}, assets: map[string]asset{}}
	sum := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("asset %s: no content type for %q files", name, path.Ext(name))
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(name, "static/")
		h.assets[rel] = asset{body: body, contentType: ct}
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(body))
		sum.Write(body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]
	for _, name := range []string{"login", "connections", "deliveries", "sources", "monitors", "searches", "alerts", "search", "notfound"} {
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		// Render once now, so a template that cannot execute fails here.
		if err := t.Execute(&bytes.Buffer{}, h.view(page{file: name})); err != nil {
			return nil, fmt.Errorf("render page %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return h, nil
}

// view is what a page template sees.
type view struct {
	Static   string // URL prefix of the assets, with their version
	Nav      string // the navigation item to mark as current
	SignedIn bool
}

func (h *handler) view(p page) view {
	return view{Static: "/ui/static/" + h.version, Nav: p.nav, SignedIn: p.signedIn}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/ui" || p == "/ui/":
		http.Redirect(w, r, "/ui/connections", http.StatusFound)
	case strings.HasPrefix(p, "/ui/static/"):
		h.serveAsset(w, r, strings.TrimPrefix(p, "/ui/static/"))
	default:
		pg, ok := pageFor(p)
		if !ok {
			h.render(w, http.StatusNotFound, page{file: "notfound"})
			return
		}
		h.render(w, http.StatusOK, pg)
	}
}

func (h *handler) render(w http.ResponseWriter, status int, p page) {
	var buf bytes.Buffer
	if err := h.pages[p.file].Execute(&buf, h.view(p)); err != nil {
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The pages carry no data, but a cached page would ask for assets of a
	// version the server no longer has after an upgrade.
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// serveAsset serves rest, "<version>/<name>". Another version is not found:
// a page of an older server asks for files this one does not have.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, rest string) {
	version, name, _ := strings.Cut(rest, "/")
	a, ok := h.assets[name]
	if version != h.version || !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("Not found.\n"))
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Length", fmt.Sprint(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}
