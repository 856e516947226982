package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/storetest"
)

func TestLogStore(t *testing.T) {
	storetest.TestLogStore(t, func(t *testing.T) storetest.LogStore {
		return MustOpenDB(t)
	})
}

// The category filter in SQL selects exactly what hookline.MatchCategory
// matches: ASCII letters folded, nothing else (the column's "C" collation),
// and LIKE's own wildcards taken literally.
func TestScanCategoriesMatchMatchCategory(t *testing.T) {
	db := MustOpenDB(t)
	categories := []string{"Prod/Web", "PROD/api", "prod", "prodÄ", "prodä", "ÄRGER", "ärger", "Ärger",
		"pro_d", "proXd", "pro%d", "pro\\d", "", "staging/web"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var batch []hookline.LogRecord
	for _, c := range categories {
		batch = append(batch, hookline.LogRecord{SourceID: "S", Time: at, Category: c, Message: c})
	}
	if err := db.AppendLogs(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	for _, patterns := range [][]string{
		{"prod/*"}, {"PROD/WEB"}, {"prodä"}, {"PRODÄ"}, {"ärger"}, {"ÄRGER"}, {"Ä*"}, {"pro_d"}, {"pro_*"},
		{"pro%*"}, {"pro\\d"}, {"*"}, {""}, {"prod", "staging/*"},
	} {
		var want []string
		for _, c := range categories {
			if slices.ContainsFunc(patterns, func(p string) bool { return hookline.MatchCategory(p, c) }) {
				want = append(want, c)
			}
		}
		var got []string
		err := db.ScanLogs(t.Context(), hookline.LogScan{Categories: patterns}, func(r hookline.LogRecord) error {
			got = append(got, r.Category)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("categories %q select %q; MatchCategory matches %q", patterns, got, want)
		}
	}
}
