package listpage_test

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/hookline/hookline/listpage"

	_ "modernc.org/sqlite" // a real database to read rows from
)

func TestScan(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scanInt := func(s listpage.Scanner) (int, error) {
		var v int
		return v, s.Scan(&v)
	}
	tests := []struct {
		name     string
		rows     int // 1..rows
		limit    int
		want     []int
		wantMore bool
	}{
		{"none", 0, 3, []int{}, false},
		{"fewer", 2, 3, []int{1, 2}, false},
		{"exactly", 3, 3, []int{1, 2, 3}, false},
		{"one more shows a page follows", 4, 3, []int{1, 2, 3}, true},
		{"many more", 100, 3, []int{1, 2, 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.Query(`WITH RECURSIVE n (v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < ?)
				SELECT v FROM n WHERE v <= ?`, tt.rows, tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			got, more, err := listpage.Scan(rows, tt.limit, scanInt)
			if err != nil || !slices.Equal(got, tt.want) || more != tt.wantMore {
				t.Errorf("Scan = %v, %v, %v; want %v, %v", got, more, err, tt.want, tt.wantMore)
			}
		})
	}
	rows, err := db.Query(`SELECT 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := listpage.Scan(rows, 3, scanInt); err == nil {
		t.Error("Scan of a row scan refuses succeeded")
	}
}
