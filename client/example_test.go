package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/hookline/hookline/client"
)

// Create an AWS Lambda connection, show the server's field problems if it
// refuses it, and send the sample alert and recovery.
func Example() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", "", client.WithAccessKey(os.Getenv("HOOKLINE_ACCESS_ID"), os.Getenv("HOOKLINE_ACCESS_KEY")))

	conn, err := c.CreateConnection(ctx, client.Definition{
		Name:           "block-ip",
		WebhookType:    "AWSLambda",
		URL:            "https://abcdefg.lambda-url.us-east-1.on.aws/", // region and service follow from it
		DefaultPayload: `{"ip": "{{ResultsJson.client_ip}}", "type": "{{TriggerType}}"}`,
		Extra: map[string]any{
			"accessKeyId":     "AKIAIOSFODNN7EXAMPLE",
			"secretAccessKey": os.Getenv("LAMBDA_SECRET"),
		},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		for _, f := range apiErr.FieldErrors() {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
		return
	} else if err != nil {
		log.Fatal(err)
	}

	res, err := c.TestConnection(ctx, conn.ID, []string{client.TestAlert, client.TestResolution})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alert:", res.Alert.StatusCode, "recovery:", res.Resolution.StatusCode, "all 2xx:", res.OK())
}

// Change one field of a stored connection. The secret is not sent, so it
// keeps its stored value.
func ExampleConnection_Definition() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", "", client.WithAccessKey(os.Getenv("HOOKLINE_ACCESS_ID"), os.Getenv("HOOKLINE_ACCESS_KEY")))

	conn, err := c.GetConnection(ctx, "886799E527915E64")
	if err != nil {
		log.Fatal(err)
	}
	def := conn.Definition()
	def.Description = "blocks the client IP at the edge"
	if _, err := c.UpdateConnection(ctx, conn.ID, def); err != nil {
		log.Fatal(err)
	}
}
