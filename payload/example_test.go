package payload_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// A Lambda behind a Function URL gets the rendered payload as its event body.
// Inside quotes {{ResultsJson}} is the rows' JSON text, which existing Lambdas
// json.loads a second time; bare it is the array itself.
func ExampleParse() {
	tmpl, err := payload.Parse(`{
  "alert": "{{Name}}",
  "type": "{{TriggerType}}",
  "count": {{NumQueryResults}},
  "top_client": "{{ResultsJson.client_ip}} ({{ResultsJson._count}} requests)",
  "results": "{{ResultsJson}}",
  "rows": {{ResultsJson}}
}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	alert := &hookline.Alert{
		Name:            `Too many "401" responses`,
		TriggerType:     hookline.TriggerCritical,
		TriggerTime:     time.Date(2024, 5, 1, 19, 8, 46, 0, time.UTC),
		NumQueryResults: 1,
		Results: []hookline.Row{
			{"client_ip": "203.0.113.7", "_count": json.Number("1542")},
		},
	}
	fmt.Printf("%s\n", tmpl.Render(alert))

	_, err = payload.Parse(`{"alert": "{{Name}}",}`)
	fmt.Println(err)
	// Output:
	// {
	//   "alert": "Too many \"401\" responses",
	//   "type": "Critical",
	//   "count": 1,
	//   "top_client": "203.0.113.7 (1542 requests)",
	//   "results": "[{\"_count\":1542,\"client_ip\":\"203.0.113.7\"}]",
	//   "rows": [{"_count":1542,"client_ip":"203.0.113.7"}]
	// }
	// line 1, column 21: trailing comma before '}'
}
