package payload_test

// realPayloads are the default payloads of Sumo Logic's connection types and
// payloads seen in the wild (sumo-webhook-facts.md §1.4, §2.1, §2.2). They
// seed the fuzz corpora and have golden renderings.
var realPayloads = []struct{ name, src string }{
	{"lambda", `{
  "name": "{{Name}}",
  "type": "{{TriggerType}}",
  "time": "{{TriggerTime}}",
  "query": "{{Query}}",
  "count": {{NumQueryResults}},
  "results": "{{ResultsJson}}",
  "rows": {{ResultsJson}},
  "first_ip": "{{ResultsJson.client_ip}}",
  "second_ip": "{{ResultsJson.client_ip}}[1]"
}`},
	{"docs-flat", `{ "text": "{{Name}} ran over {{TimeRange}} at {{FireTime}}", "results": "{{ResultsJson}}", "num": "{{NumQueryResults}}" }`},
	{"securityhub", `{"Types": "Software and Configuration Checks/Industry and Regulatory Standards/PCI-DSS Controls", "Description": "{{SearchDescription}}", "SourceUrl": "{{SearchQueryUrl}}", "GeneratorID": "{{SearchName}}", "Severity": 30, "Rows": "{{AggregateResultsJson}}", "ComplianceStatus": "FAILED"}`},
	{"pagerduty-v2-alert", `{"routing_key":"SERVICE KEY","event_action":"trigger","client":"Sumo Logic","client_url":"{{AlertResponseURL}}","payload":{"summary":"{{TriggerType}} Alert:{{Name}}","source":"Monitor :{{Name}}","severity":"critical","custom_details":{"alertURL":"{{AlertResponseURL}}","triggerCondition":"{{TriggerCondition}}","triggerValue":"{{TriggerValue}}","triggerTime":"{{TriggerTime}}","triggerTimeRange":"{{TriggerTimeRange}}","query":"{{Query}}","queryURL":"{{QueryURL}}","results":"{{ResultsJSON}}"}}}`},
	{"pagerduty-v2-recovery", `{"routing_key":"{{RoutingKey}}","event_action":"resolve","dedup_key":"{{DedupKey}}","payload":{"summary":"Monitor {{Name}} has recovered at {{TriggerTime}}","severity":"{{PayloadSeverity}}","source":"{{PayloadSource}}","custom_details":{"name":"{{Name}}","time":"{{TriggerTimeRange}}","triggerCondition":"{{TriggerCondition}}","query":"{{Query}}"}}}`},
	{"pagerduty-v1-alert", `{"service_key":"SERVICE KEY","event_type":"trigger","description":"{{TriggerType}} Alert:{{AlertName}}","client":"Sumo Logic","client_url":"{{AlertResponseURL}}","details":{"alertURL":"{{AlertResponseURL}}","triggerCondition":"{{TriggerCondition}}","triggerValue":"{{TriggerValue}}","triggerTime":"{{TriggerTime}}","query":"{{Query}}","queryURL":"{{QueryURL}}","results":"{{ResultsJSON}}"}}`},
	{"pagerduty-v1-recovery", `{"service_key":"{{ServiceKey}}","event_type":"resolve","incident_key":"{{IncidentKey}}","description":"{{Name}} has recovered at {{TriggerTime}}","details":{"name":"{{Name}}","time":"{{TriggerTimeRange}}","triggerCondition":"{{TriggerCondition}}","query":"{{Query}}"}}`},
	{"opsgenie", `{"AlertName":"{{AlertName}}","Description":"{{Description}}","action":"create","AlertURL":"{{AlertResponseURL}}","Query":"{{Query}}","QueryURL":"{{QueryURL}}","TriggerTime":"{{TriggerTime}}","TriggerTimeRange":"{{TriggerTimeRange}}","TriggerCondition":"{{TriggerCondition}}","TriggerValue":"{{TriggerValue}}","TriggerType":"{{TriggerType}}","ResultsJson":"{{ResultsJSON}}","DetectionMethod":"{{DetectionMethod}}","MonitorType":"{{MonitorType}}","NumQueryResults":"{{NumQueryResults}}","SourceURL":"{{SourceURL}}"}`},
	{"signl4-recovery", `{"X-S4-ExternalID":"{{IncidentKey}}","X-S4-Status":"resolved","X-S4-SourceSystem":"SumoLogic"}`},
	{"teams-workflows", `{
  "type": "message",
  "attachments": [
    {
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": [
          {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": "Monitor Alert: {{TriggerType}} on {{Name}}"},
          {"type": "TextBlock", "text": "Created On Date: {{TriggerTime}}", "wrap": true},
          {"type": "FactSet", "facts": [
            {"title": "Description", "value": "{{Description}}"},
            {"title": "Monitor Query", "value": "{{Query}}"},
            {"title": "Trigger Condition", "value": "{{TriggerCondition}}"},
            {"title": "Trigger Value", "value": "{{TriggerValue}}"},
            {"title": "Trigger Time Range", "value": "{{TriggerTimeRange}}"},
            {"title": "Results", "value": "{{ResultsJson}}"}
          ]}
        ],
        "version": "1.4",
        "actions": [{"type": "Action.OpenUrl", "title": "View Alert", "url": "{{AlertResponseURL}}"}]
      }
    }
  ]
}`},
	{"slack", `{"attachments":[{"pretext":"Sumo Logic Alert for: *{{Name}}* by user USERNAME","fields":[{"title":"Description","value":"{{Description}} {{TriggerTimeStart}}"},{"title":"Query","value":"<{{QueryURL}}|{{Query}}>"},{"title":"Time Range","value":"{{TriggerTimeRange}}"}],"mrkdwn_in":["text","pretext"],"color":"#29A1E6"}]}`},
	{"jira", `{"fields":{"issuetype":{"name":"Bug"},"project":{"key":"Sumo_Logic"},"summary":"{{Name}}","priority":{"id":"3"},"description":"{{QueryUrl}}"}}`},
	{"newrelic", `{"eventType":"{{Name}}","description":"{{Description}}","client":"Sumo Logic","search_url":"{{QueryUrl}}","num_records":"{{NumQueryResults}}","search_results":"{{ResultsJson}}"}`},
	{"terraform-webhook", `{"client":"Sumo Logic","eventType":"{{Name}}","description":"{{Description}}","search_url":"{{QueryUrl}}","num_records":"{{NumRawResults}}","search_results":"{{AggregateResultsJson}}"}`},
	{"metrics-legacy", `{"status":"{{AlertStatus}}","id":"{{AlertID}}","threshold":"{{AlertThreshold}}","condition":"{{AlertCondition}}","source":"{{AlertSource}}","raw":"{{RawResultsJson}}","n":"{{NumRawResults}}","host":"{{Results.Host}}"}`},
}
