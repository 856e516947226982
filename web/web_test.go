package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hookline/hookline/web"
)

// contractCSP is the policy the UI contract names; the pages' scripts and
// styles are written for it (no inline scripts, no style attributes).
const contractCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

func get(t *testing.T, srv *httptest.Server, method, p string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var (
	assetRefRE  = regexp.MustCompile(`(?:src|href)="(/ui/static/[^"]+)"`)
	importRE    = regexp.MustCompile(`(?:from|import)\s*\(?\s*'(\./[^']+)'`)
	inlineRE    = regexp.MustCompile(`<script(?:\s+type="module")?\s*>|\sstyle=|\son[a-z]+=`)
	scriptTagRE = regexp.MustCompile(`<script[^>]*>`)
)

// TestPages: every page answers 200 as HTML with the policy, and holds no
// inline script or style that the policy would block.
func TestPages(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, p := range []string{
		"/ui/login", "/ui/connections", "/ui/connections/new", "/ui/connections/0A1B2C3D4E5F6071", "/ui/deliveries",
		"/ui/sources", "/ui/monitors", "/ui/monitors/new", "/ui/monitors/0A1B2C3D4E5F6071",
		"/ui/searches", "/ui/searches/new", "/ui/searches/0A1B2C3D4E5F6071", "/ui/alerts", "/ui/search",
	} {
		t.Run(p, func(t *testing.T) {
			resp, body := get(t, srv, "GET", p)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			checkHeaders(t, resp, "text/html; charset=utf-8")
			if m := inlineRE.FindString(body); m != "" {
				t.Errorf("the page has inline code or style the policy blocks: %q", m)
			}
			for _, tag := range scriptTagRE.FindAllString(body, -1) {
				if !strings.Contains(tag, `src="/ui/static/`) {
					t.Errorf("a script not loaded from the server's own assets: %s", tag)
				}
			}
			if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, `name="viewport"`) {
				t.Error("the page lacks its language or viewport")
			}
		})
	}
}

func checkHeaders(t *testing.T, resp *http.Response, contentType string) {
	t.Helper()
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type %q, want %q", got, contentType)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != contractCSP {
		t.Errorf("Content-Security-Policy %q, want %q", got, contractCSP)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
}

// TestAssets follows every asset the pages load, and every module those
// import, and checks each is served with its type, the policy and a long
// cache life (their URLs change with their content); and that every
// embedded asset is reached so.
func TestAssets(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	seen := map[string]bool{}
	var queue []string
	for _, p := range []string{"/ui/login", "/ui/connections", "/ui/deliveries", "/ui/sources", "/ui/monitors", "/ui/searches", "/ui/alerts", "/ui/search"} {
		_, body := get(t, srv, "GET", p)
		for _, m := range assetRefRE.FindAllStringSubmatch(body, -1) {
			queue = append(queue, m[1])
		}
	}
	if len(queue) == 0 {
		t.Fatal("the pages load no assets")
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		resp, body := get(t, srv, "GET", u)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", u, resp.StatusCode)
			continue
		}
		want, ok := types[path.Ext(u)]
		if !ok {
			t.Errorf("%s: an asset of unexpected kind", u)
			continue
		}
		checkHeaders(t, resp, want)
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", u, cc)
		}
		if path.Ext(u) == ".js" {
			for _, m := range importRE.FindAllStringSubmatch(body, -1) {
				queue = append(queue, path.Join(path.Dir(u), m[1]))
			}
		}
	}
	var served, embedded []string
	for u := range seen {
		served = append(served, path.Base(u))
	}
	for _, name := range embeddedFiles(t) {
		if strings.HasPrefix(name, "static/") {
			embedded = append(embedded, path.Base(name))
		}
	}
	sort.Strings(served)
	sort.Strings(embedded)
	if strings.Join(served, " ") != strings.Join(embedded, " ") {
		t.Errorf("the pages reach the assets\n  %v\nbut these are embedded\n  %v", served, embedded)
	}
	resp, _ := get(t, srv, "HEAD", firstKey(seen))
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		t.Errorf("HEAD of an asset: status %d, length %d", resp.StatusCode, resp.ContentLength)
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// TestNotFoundAndRedirects: addresses the UI does not have are 404 (an
// asset of another version too: a page of an older server asks for it),
// /ui goes to the connections, and only GET and HEAD are answered.
func TestNotFoundAndRedirects(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	_, page := get(t, srv, "GET", "/ui/login")
	css := assetRefRE.FindStringSubmatch(page)
	if css == nil {
		t.Fatal("no asset on the sign-in page")
	}
	dir := path.Dir(css[1])
	for _, p := range []string{
		"/ui/nothing", "/ui/login/extra", "/ui/connections/new/x", "/ui/connections/not-an-id", "/ui/deliveries/x",
		"/ui/sources/x", "/ui/monitors/not-an-id", "/ui/monitors/new/x", "/ui/searches/not-an-id", "/ui/alerts/x", "/ui/search/x",
		dir + "/missing.js", "/ui/static/000000000000/app.css", "/ui/static/app.css", dir + "/../app.css", dir + "/",
	} {
		resp, _ := get(t, srv, "GET", p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
		if resp.Header.Get("Content-Security-Policy") != contractCSP {
			t.Errorf("GET %s: no policy on the 404", p)
		}
	}
	for _, p := range []string{"/ui", "/ui/"} {
		resp, _ := get(t, srv, "GET", p)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/connections" {
			t.Errorf("GET %s: %d to %q, want 302 to /ui/connections", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := get(t, srv, "POST", "/ui/login")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestNoExternalURLs: the UI works offline and under its policy, so no
// embedded file names a URL of another site: no fonts, scripts, images or
// styles from elsewhere, and no links out.
func TestNoExternalURLs(t *testing.T) {
	files := embeddedFiles(t)
	if len(files) < 5 {
		t.Fatalf("only %d embedded files: %v", len(files), files)
	}
	for _, fsys := range web.EmbeddedFiles {
		for _, name := range files {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				continue // in the other file system
			}
			for _, scheme := range []string{"http://", "https://", "//fonts.", "//cdn"} {
				if i := strings.Index(strings.ToLower(string(b)), scheme); i >= 0 {
					t.Errorf("%s names an external URL at byte %d: %q", name, i, snippet(string(b), i))
				}
			}
		}
	}
}

func snippet(s string, i int) string {
	end := min(len(s), i+60)
	return s[i:end]
}

// embeddedFiles lists every embedded file by its path in its file system.
func embeddedFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, fsys := range web.EmbeddedFiles {
		err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, name)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}
