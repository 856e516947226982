package devlambda_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify/awslambda"
)

// A test stands up a SigV4-checking endpoint, sends it what an AWSLambda
// connection builds, and reads what arrived.
func Example() {
	dl := devlambda.New(devlambda.Config{
		Region: "us-east-1", Service: "lambda",
		Keys: map[string]string{"AKIDEXAMPLE000001": "exampleSecret/0000000000000000000000000"},
	})
	ts := httptest.NewServer(dl)
	defer ts.Close()

	c := &hookline.Connection{
		WebhookType: awslambda.Type, URL: ts.URL + "/",
		Settings: map[string]string{"accessKeyId": "AKIDEXAMPLE000001", "region": "us-east-1", "serviceName": "lambda"},
		Secrets:  map[string]string{"secretAccessKey": "exampleSecret/0000000000000000000000000"},
	}
	for _, secret := range []string{"exampleSecret/0000000000000000000000000", "wrongSecret"} {
		c.Secrets["secretAccessKey"] = secret
		req, err := awslambda.Kind{}.NewRequest(context.Background(), c, []byte(`{"name":"High CPU"}`), time.Now())
		if err != nil {
			panic(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	for _, r := range dl.Requests() {
		fmt.Printf("%s %s status=%d verified=%v signature mismatch=%v\n",
			r.Method, r.Path, r.Status, r.Verified, strings.HasPrefix(r.Err, devlambda.MsgSignatureMismatch))
	}
	// Output:
	// 200
	// 403
	// POST / status=200 verified=true signature mismatch=false
	// POST / status=403 verified=false signature mismatch=true
}
