package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
)

func TestSearch(t *testing.T) {
	ctx := context.Background()
	c := client.New(sourceServer(t), testToken)
	src, err := c.CreateSource(ctx, client.SourceInput{Name: "web", Category: "prod/web"})
	if err != nil {
		t.Fatal(err)
	}
	lines := "GET / from 203.0.113.7 200\nGET /login from 203.0.113.7 401\nGET / from 198.51.100.23 200\n"
	if _, err := c.SendLogs(ctx, src.Token, []byte(lines), client.SendOptions{}); err != nil {
		t.Fatal(err)
	}

	agg, err := c.Search(ctx, client.SearchRequest{Query: `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`})
	if err != nil {
		t.Fatal(err)
	}
	if !agg.Aggregate || strings.Join(agg.Columns, ",") != "ip,_count" || len(agg.Rows) != 2 ||
		agg.Rows[0]["ip"] != "203.0.113.7" || agg.Rows[0]["_count"] != 2.0 || agg.Scanned != 3 {
		t.Errorf("aggregate: %+v", agg)
	}

	msgs, err := c.Search(ctx, client.SearchRequest{Query: "203.0.113.7", From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Minute), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if msgs.Aggregate || len(msgs.Messages) != 1 || msgs.Matched != 2 || msgs.Messages[0].Fields["_sourceCategory"] != "prod/web" ||
		msgs.Messages[0].Fields["_sourceName"] != "web" || msgs.Messages[0].Time.IsZero() {
		t.Errorf("messages: %+v", msgs)
	}

	tests := []struct {
		name      string
		req       client.SearchRequest
		line, col int
		posOK     bool
	}{
		{"syntax", client.SearchRequest{Query: "error | count by"}, 1, 17, true},
		{"second line", client.SearchRequest{Query: "error\n| frobnicate"}, 2, 3, true},
		{"range", client.SearchRequest{Query: "*", From: time.Now().Add(-40 * 24 * time.Hour)}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Search(ctx, tt.req)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
				t.Fatalf("err %v; want a 400", err)
			}
			line, col, msg, ok := client.QueryErrorAt(err)
			if ok != tt.posOK || line != tt.line || col != tt.col || ok && msg == "" {
				t.Errorf("QueryErrorAt: %d, %d, %q, %v; want %d, %d, %v", line, col, msg, ok, tt.line, tt.col, tt.posOK)
			}
		})
	}
	if _, err := c.Search(ctx, client.SearchRequest{}); err == nil {
		t.Error("an empty query was sent")
	}
}
