package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func TestLinkAlerts(t *testing.T) {
	start := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		source                       string
		query                        string
		wantSource, wantAlerts       string
		wantQueryFrom, wantQueryTo   string
		keepsSenderLinks, tooLongURL bool
	}{
		{source: "monitor:m1", query: `_sourceCategory=web | count by ip`,
			wantSource: "http://h:8080/ui/monitors/m1", wantAlerts: "http://h:8080/ui/alerts?source=monitor%3Am1",
			wantQueryFrom: "2026-11-26T07:00:00Z", wantQueryTo: "2026-11-26T07:05:00Z"},
		{source: "search:s/2", query: `"a b" & c`,
			wantSource: "http://h:8080/ui/searches/s%2F2", wantAlerts: "http://h:8080/ui/alerts?source=search%3As%2F2",
			wantQueryFrom: "2026-11-26T07:00:00Z", wantQueryTo: "2026-11-26T07:05:00Z"},
		{source: "api", keepsSenderLinks: true},
		{source: "alertmanager", keepsSenderLinks: true},
		{source: "monitor:m3", query: strings.Repeat("x", hookline.MaxURLLen), tooLongURL: true,
			wantSource: "http://h:8080/ui/monitors/m3", wantAlerts: "http://h:8080/ui/alerts?source=monitor%3Am3"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			a := &hookline.AcceptedAlert{Source: tt.source, Alert: hookline.Alert{
				Query: tt.query, TriggerTimeStart: start, TriggerTimeEnd: start.Add(5 * time.Minute),
				SourceURL: "https://sender/source", QueryURL: "https://sender/query",
			}}
			var got []*hookline.AcceptedAlert
			accept := linkAlerts("http://h:8080", func(_ context.Context, alerts []*hookline.AcceptedAlert) error {
				got = alerts
				return nil
			})
			if err := accept(context.Background(), []*hookline.AcceptedAlert{a}); err != nil || len(got) != 1 {
				t.Fatalf("accept: %v, %d alerts passed on", err, len(got))
			}
			al := got[0].Alert
			if tt.keepsSenderLinks {
				if al.SourceURL != "https://sender/source" || al.QueryURL != "https://sender/query" || al.AlertResponseURL != "" {
					t.Errorf("links of a sender's alert changed: %q %q %q", al.SourceURL, al.QueryURL, al.AlertResponseURL)
				}
				return
			}
			if al.SourceURL != tt.wantSource || al.AlertResponseURL != tt.wantAlerts {
				t.Errorf("SourceURL %q, AlertResponseURL %q; want %q, %q", al.SourceURL, al.AlertResponseURL, tt.wantSource, tt.wantAlerts)
			}
			if tt.tooLongURL {
				if al.QueryURL != "https://sender/query" {
					t.Errorf("QueryURL over the limit was set: %d bytes", len(al.QueryURL))
				}
				return
			}
			u, err := url.Parse(al.QueryURL)
			if err != nil || u.Path != "/ui/search" {
				t.Fatalf("QueryURL %q: %v", al.QueryURL, err)
			}
			q := u.Query()
			if q.Get("query") != tt.query || q.Get("from") != tt.wantQueryFrom || q.Get("to") != tt.wantQueryTo {
				t.Errorf("QueryURL %q: query %q from %q to %q", al.QueryURL, q.Get("query"), q.Get("from"), q.Get("to"))
			}
		})
	}
}
