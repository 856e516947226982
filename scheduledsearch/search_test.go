package scheduledsearch_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/scheduledsearch"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*hookline.ScheduledSearch)
		// want maps each field with a problem to a part of its message.
		want map[string]string
	}{
		{name: "valid"},
		{name: "custom", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.ScheduleCustom, "30 9 * * MON-FRI", "Europe/Berlin"
		}},
		{name: "query syntax", mutate: func(s *hookline.ScheduledSearch) { s.Query = "_sourceCategory=x\n| count by" },
			want: map[string]string{"query": "line 2, column"}},
		{name: "cron syntax", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, "61 * * * *"
		}, want: map[string]string{"cronExpression": "minute"}},
		{name: "cron of another type", mutate: func(s *hookline.ScheduledSearch) { s.CronExpression = "0 * * * *" },
			want: map[string]string{"cronExpression": "*/15 * * * *"}},
		{name: "payload", mutate: func(s *hookline.ScheduledSearch) { s.Notification.Payload = `{"n": {{NumQueryResults}}` },
			want: map[string]string{"notification.payload": ""}},
		{name: "all at once", mutate: func(s *hookline.ScheduledSearch) {
			s.Name = ""
			s.Query = "| count by"
			s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, "* * *"
			s.Notification.Payload = "{"
			s.Notification.ConnectionID = ""
		}, want: map[string]string{"name": "required", "query": "line 1", "cronExpression": "5 fields",
			"notification.payload": "", "notification.connectionId": "required"}},
		{name: "empty query said once", mutate: func(s *hookline.ScheduledSearch) { s.Query = " " },
			want: map[string]string{"query": "required"}},
		{name: "refused cron said once", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, "* * * * *\x00"
		}, want: map[string]string{"cronExpression": "printable"}},
		{name: "payload too long said once", mutate: func(s *hookline.ScheduledSearch) {
			s.Notification.Payload = "{" + strings.Repeat(" ", hookline.MaxDefaultPayloadLen)
		}, want: map[string]string{"notification.payload": "at most"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := search(tc.mutate)
			err := scheduledsearch.Validate(s)
			got := map[string]string{}
			var fields []string
			if err != nil {
				var he *hookline.Error
				if !errors.As(err, &he) || he.Code != hookline.EINVALID {
					t.Fatalf("error %v, want EINVALID", err)
				}
				for _, f := range he.Fields {
					got[f.Field] = f.Message
					fields = append(fields, f.Field)
				}
			}
			if len(fields) != len(tc.want) {
				t.Fatalf("problems %q, want one each for %v", fields, tc.want)
			}
			for field, part := range tc.want {
				if msg, ok := got[field]; !ok || !strings.Contains(msg, part) {
					t.Errorf("problem of %s: %q, want one saying %q (all: %v)", field, msg, part, got)
				}
			}
		})
	}
}

func TestNext(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		mutate func(*hookline.ScheduledSearch)
		after  string
		want   []string // the next times, one after the other
	}{
		{name: "15 minutes", after: "2026-11-26T12:00:00Z",
			want: []string{"2026-11-26T12:15:00Z", "2026-11-26T12:30:00Z"}},
		{name: "daily in Berlin, winter", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.Schedule1Day, "", "Europe/Berlin"
		}, after: "2026-11-26T12:00:00Z", want: []string{"2026-11-26T23:00:00Z", "2026-11-27T23:00:00Z"}},
		{name: "daily in Berlin across the clock change", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.Schedule1Day, "", "Europe/Berlin"
		}, after: "2026-03-28T12:00:00Z", want: []string{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"}},
		{name: "weekly on Mondays", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.Schedule1Week, ""
		}, after: "2026-11-26T12:00:00Z", want: []string{"2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"}},
		{name: "custom in New York", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.ScheduleCustom, "30 9 * * 1-5", "America/New_York"
		}, after: "2026-11-27T15:00:00Z", want: []string{"2026-11-30T14:30:00Z", "2026-12-01T14:30:00Z"}},
		{name: "strictly after", after: "2026-11-26T12:15:00Z", want: []string{"2026-11-26T12:30:00Z"}},
		{name: "never", mutate: func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, "0 0 31 2 *"
		}, after: "2026-11-26T12:00:00Z", want: []string{"0001-01-01T00:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := search(tc.mutate)
			var got []string
			after := utc(tc.after)
			for range tc.want {
				next, err := scheduledsearch.Next(s, after)
				if err != nil {
					t.Fatal(err)
				}
				if next.Location() != time.UTC {
					t.Errorf("next %s not in UTC", next)
				}
				got = append(got, next.Format(time.RFC3339))
				after = next
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("next times %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNextErrors(t *testing.T) {
	for _, mutate := range []func(*hookline.ScheduledSearch){
		func(s *hookline.ScheduledSearch) { s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, "nope" },
		func(s *hookline.ScheduledSearch) { s.TimeZone = "Mars/Olympus_Mons" },
	} {
		if next, err := scheduledsearch.Next(search(mutate), at); err == nil {
			t.Errorf("next %s, want an error", next)
		}
	}
}

func TestSource(t *testing.T) {
	if got := scheduledsearch.Source("S1"); got != "search:S1" {
		t.Errorf("Source %q", got)
	}
}
