package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
)

// BenchmarkTestSigned measures one Test Alert as the server runs it: parse
// the template, render the sample, sign with SigV4, POST over keep-alive to
// a SigV4-verifying endpoint on 127.0.0.1 and read its answer. Parallel, so
// the figure is attempts per second on all cores, target included.
func BenchmarkTestSigned(b *testing.B) {
	dl := devlambda.New(devlambda.Config{
		Region: "us-east-1", Service: "lambda",
		Keys:    map[string]string{"AKIDBENCH0000001": "benchSecretKey/000000000000000000000000"},
		Respond: func(devlambda.Request) (int, []byte) { return 200, []byte(`{"ok":true}`) },
		// Keep no history: a benchmark sends millions of requests.
		MaxRecorded: -1,
	})
	ts := httptest.NewServer(dl)
	b.Cleanup(ts.Close)
	c := &hookline.Connection{
		ID: "00000000000000B3", Name: "bench", WebhookType: "AWSLambda", URL: ts.URL + "/",
		DefaultPayload: `{"name": "{{Name}}", "type": "{{TriggerType}}", "ip": "{{ResultsJson.client_ip}}", "rows": {{ResultsJson}}}`,
		Settings:       map[string]string{"accessKeyId": "AKIDBENCH0000001", "region": "us-east-1", "serviceName": "lambda"},
		Secrets:        map[string]string{"secretAccessKey": "benchSecretKey/000000000000000000000000"},
	}
	s := newSender(5 * time.Second)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a, err := s.Test(ctx, c, hookline.TriggerCritical)
			if err != nil {
				b.Fatal(err)
			}
			if a.StatusCode != http.StatusOK {
				b.Fatalf("status %d: %s %s", a.StatusCode, a.ResponseContent, a.Error)
			}
		}
	})
}
