package notify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
)

func TestRegistryValidate(t *testing.T) {
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	if got := strings.Join(reg.Types(), ","); got != "AWSLambda,Webhook" {
		t.Errorf("Types() = %s", got)
	}
	c := webhookConn("https://hooks.example.com/x")
	c.DefaultPayload = `{"a": "{{Name}}", "b": "{{Nonsense}}"}`
	warnings, err := reg.Validate(c)
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "Nonsense") {
		t.Errorf("Validate() = %q, %v", warnings, err)
	}

	c.DefaultPayload = "{\n\"a\": {{Name}\n}"
	c.CustomHeaders = []hookline.Header{{Name: "Authorization", Value: "x"}}
	_, err = reg.Validate(c)
	var e *hookline.Error
	if !errors.As(err, &e) {
		t.Fatalf("Validate() = %v", err)
	}
	fields := map[string]string{}
	for _, f := range e.Fields {
		fields[f.Field] = f.Message
	}
	if !strings.Contains(fields["defaultPayload"], "line 2") {
		t.Errorf("defaultPayload problem = %q", fields["defaultPayload"])
	}
	if !strings.Contains(fields["customHeaders[0].name"], "Webhook connection itself") {
		t.Errorf("customHeaders problem = %q (all: %v)", fields["customHeaders[0].name"], fields)
	}

	c = webhookConn("https://hooks.example.com/x")
	c.WebhookType = "Pigeon"
	if _, err := reg.Validate(c); err == nil || !strings.Contains(err.Error(), "AWSLambda, Webhook") {
		t.Errorf("unknown type: %v", err)
	}
}

// TestRegistryMakesMaps: Validate is the one place nil Settings and Secrets
// become maps, so a kind's Normalize can write to them.
func TestRegistryMakesMaps(t *testing.T) {
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	for _, typ := range reg.Types() {
		c := webhookConn("https://abcdefghij.lambda-url.us-east-1.on.aws/")
		c.WebhookType, c.Settings, c.Secrets = typ, nil, nil
		reg.Validate(c) // the problems (missing keys) do not matter here
		if c.Settings == nil || c.Secrets == nil {
			t.Errorf("%s: Validate left Settings %v, Secrets %v", typ, c.Settings, c.Secrets)
		}
	}
}

func TestRegistryDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a type twice did not panic")
		}
	}()
	notify.NewRegistry(webhook.Kind{}, webhook.Kind{})
}
