package query_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/query"
)

func Example() {
	q, err := query.Parse(`_sourceCategory=prod/web "GET" | parse "* from * " as req, ip | count by ip | where _count > 1 | sort by _count`)
	if err != nil {
		fmt.Println(err)
		return
	}
	web := map[string]string{"_sourceCategory": "prod/web"}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	records := []query.Record{ // newest first, as a store reads them
		{Time: now, Message: "GET /login from 203.0.113.7 status=401", Fields: web},
		{Time: now.Add(-1 * time.Second), Message: "GET /login from 203.0.113.7 status=401", Fields: web},
		{Time: now.Add(-2 * time.Second), Message: "GET / from 198.51.100.23 status=200", Fields: web},
		{Time: now.Add(-3 * time.Second), Message: "GET /login from 203.0.113.7 status=200", Fields: web},
		{Time: now.Add(-4 * time.Second), Message: "POST /login from 203.0.113.7 status=401", Fields: web},
	}
	res, err := q.Run(context.Background(), query.Records(records))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Columns)
	for _, row := range res.Rows {
		fmt.Println(row["ip"], row["_count"])
	}
	fmt.Println(res.Scanned, "read,", res.Matched, "counted")
	// Output:
	// [ip _count]
	// 203.0.113.7 3
	// 5 read, 4 counted
}

func ExampleParse_error() {
	_, err := query.Parse(`_sourceCategory=web | count by | sort by _count`)
	fmt.Println(err)
	// Output:
	// line 1, column 32: expected a field name after "by", found "|"
}

func ExampleQuery_Terms() {
	q, _ := query.Parse(`_sourceCategory=prod/* "connection refused" | count by _sourceHost`)
	t := q.Terms()
	fmt.Printf("%q\n", t.Keywords)
	fmt.Printf("%+v\n", t.Fields)
	// Output:
	// ["connection refused"]
	// [{Field:_sourceCategory Values:[{Value:prod/ Prefix:true}]}]
}
