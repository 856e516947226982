package web

import "io/fs"

// EmbeddedFiles is every embedded file, templates and assets, for the
// tests of package web_test.
var EmbeddedFiles = []fs.FS{templateFS, staticFS}
