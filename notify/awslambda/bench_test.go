package awslambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify/awslambda"
)

// BenchmarkNewRequest measures building and SigV4-signing one delivery,
// the per-attempt cost that retries pay again.
func BenchmarkNewRequest(b *testing.B) {
	c := &hookline.Connection{
		ID: "00000000000000B1", Name: "bench", WebhookType: awslambda.Type,
		URL:           "https://abcdefghij.lambda-url.us-east-1.on.aws/",
		CustomHeaders: []hookline.Header{{Name: "X-Team", Value: "secops"}},
		Settings:      map[string]string{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "region": "us-east-1", "serviceName": "lambda"},
		Secrets:       map[string]string{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	}
	body := []byte(`{"name":"High request rate","type":"Critical","rows":[{"client_ip":"203.0.113.7","_count":1542}]}`)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (awslambda.Kind{}).NewRequest(ctx, c, body, now); err != nil {
			b.Fatal(err)
		}
	}
}
