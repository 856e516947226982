package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
)

// GET /connections/types carries each field's default, the words a person
// reads for each option beside the options themselves (still a list of the
// values), and the modes it is shown and required for, which the Create
// Connection dialog follows; and the server's choice about its own AWS
// credentials shows in them.
func TestConnectionTypesConditions(t *testing.T) {
	type field struct {
		Name         string              `json:"name"`
		Required     bool                `json:"required"`
		Options      []string            `json:"options"`
		OptionLabels map[string]string   `json:"optionLabels"`
		Default      string              `json:"default"`
		ShowWhen     map[string][]string `json:"showWhen"`
		RequiredWhen map[string][]string `json:"requiredWhen"`
	}
	keyModes := []string{"accessKey", "assumeRole"}
	keyModeLabels := map[string]string{"accessKey": "Access key", "assumeRole": "Assume an IAM role"}
	allModeLabels := map[string]string{"accessKey": "Access key", "assumeRole": "Assume an IAM role",
		"defaultChain": "This server's AWS credentials (default chain)"}
	tests := []struct {
		name    string
		ambient bool
		want    map[string]field // the AWSLambda fields checked
	}{
		{"the server's credentials off", false, map[string]field{
			"authMode":        {Name: "authMode", Options: []string{"accessKey", "assumeRole"}, OptionLabels: keyModeLabels, Default: "accessKey"},
			"accessKeyId":     {Name: "accessKeyId", ShowWhen: map[string][]string{"authMode": keyModes}, RequiredWhen: map[string][]string{"authMode": keyModes}},
			"secretAccessKey": {Name: "secretAccessKey", ShowWhen: map[string][]string{"authMode": keyModes}, RequiredWhen: map[string][]string{"authMode": keyModes}},
			"roleArn":         {Name: "roleArn", ShowWhen: map[string][]string{"authMode": {"assumeRole"}}, RequiredWhen: map[string][]string{"authMode": {"assumeRole"}}},
			"serviceName": {Name: "serviceName", Required: true, Options: []string{"lambda", "execute-api"},
				OptionLabels: map[string]string{"lambda": "Lambda Function URL (lambda)", "execute-api": "API Gateway (execute-api)"},
				ShowWhen:     map[string][]string{"invokeMode": {"functionUrl"}}},
			"invokeMode": {Name: "invokeMode", Options: []string{"functionUrl", "invoke"},
				OptionLabels: map[string]string{"functionUrl": "POST to a Function URL or API Gateway", "invoke": "Call the Lambda Invoke API"},
				Default:      "functionUrl"},
			"functionName": {Name: "functionName", ShowWhen: map[string][]string{"invokeMode": {"invoke"}}, RequiredWhen: map[string][]string{"invokeMode": {"invoke"}}},
			"invocationType": {Name: "invocationType", Options: []string{"RequestResponse", "Event"},
				OptionLabels: map[string]string{"RequestResponse": "Wait for the function's result", "Event": "Queue the event without waiting"},
				Default:      "RequestResponse", ShowWhen: map[string][]string{"invokeMode": {"invoke"}}},
		}},
		{"the server's credentials on", true, map[string]field{
			"authMode":    {Name: "authMode", Options: []string{"accessKey", "assumeRole", "defaultChain"}, OptionLabels: allModeLabels, Default: "accessKey"},
			"accessKeyId": {Name: "accessKeyId", ShowWhen: map[string][]string{"authMode": keyModes}, RequiredWhen: map[string][]string{"authMode": {"accessKey"}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPIWith(t, notify.NewRegistry(awslambda.New(awslambda.Options{AmbientCredentials: tc.ambient}), webhook.Kind{}))
			req, err := http.NewRequest("GET", a.url+"/api/v1/connections/types", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			type kind struct {
				WebhookType string  `json:"webhookType"`
				Fields      []field `json:"fields"`
			}
			var body struct {
				Data []kind `json:"data"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("types: %d %v", res.StatusCode, err)
			}
			i := slices.IndexFunc(body.Data, func(k kind) bool { return k.WebhookType == "AWSLambda" })
			if i < 0 {
				t.Fatalf("no AWSLambda type in %+v", body.Data)
			}
			got := map[string]field{}
			for _, f := range body.Data[i].Fields {
				got[f.Name] = f
			}
			for name, want := range tc.want {
				wj, _ := json.Marshal(want)
				gj, _ := json.Marshal(got[name])
				if string(wj) != string(gj) {
					t.Errorf("%s:\n got %s\nwant %s", name, gj, wj)
				}
			}
		})
	}
}

// newAPIWith starts the API over a real SQLite file with reg's types.
func newAPIWith(t *testing.T, reg *notify.Registry) *api {
	t.Helper()
	s := &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: openDB(t), Registry: reg,
		Sender:    &notify.Sender{Registry: reg},
		TokenHash: sha256.Sum256([]byte(token)),
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return &api{t: t, url: s.URL()}
}
