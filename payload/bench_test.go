package payload_test

import (
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// BenchmarkRender renders the PagerDuty and Lambda payloads for the sample
// alert into a reused buffer (AppendRender). The dispatcher calls Render,
// which adds one allocation for the body it sends.
func BenchmarkRender(b *testing.B) {
	for _, name := range []string{"pagerduty-v2-alert", "lambda"} {
		b.Run(name, func(b *testing.B) {
			tmpl := mustParse(b, payloadSrc(b, name))
			a := payload.Sample(hookline.TriggerCritical, fixedNow)
			buf := tmpl.Render(a)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = tmpl.AppendRender(buf[:0], a)
			}
		})
	}
	b.Run("200-rows", func(b *testing.B) {
		tmpl := mustParse(b, payloadSrc(b, "lambda"))
		a := payload.Sample(hookline.TriggerCritical, fixedNow)
		for len(a.Results) < 200 {
			a.Results = append(a.Results, a.Results[:2]...)
		}
		buf := tmpl.Render(a)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = tmpl.AppendRender(buf[:0], a)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src := payloadSrc(b, "teams-workflows")
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payload.Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func payloadSrc(tb testing.TB, name string) string {
	for _, p := range realPayloads {
		if p.name == name {
			return p.src
		}
	}
	tb.Fatalf("no payload %q", name)
	return ""
}
