package main

import (
	"strings"
	"testing"
	"time"
)

// Config.Validate refuses what README's flag table says is out of range,
// naming the flag; DefaultConfig passes.
func TestConfigValidate(t *testing.T) {
	if cfg := DefaultConfig(); cfg.Validate() != nil {
		t.Fatalf("DefaultConfig does not validate: %v", cfg.Validate())
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for valid
	}{
		{"evaluation delay 1h", func(c *Config) { c.EvaluationDelay = time.Hour }, ""},
		{"evaluation delay over 1h", func(c *Config) { c.EvaluationDelay = time.Hour + time.Second }, "--evaluation-delay"},
		{"negative evaluation delay", func(c *Config) { c.EvaluationDelay = -time.Second }, "--evaluation-delay"},
		{"delivery lease 1s", func(c *Config) { c.DeliveryLease = time.Second }, ""},
		{"delivery lease under 1s", func(c *Config) { c.DeliveryLease = 500 * time.Millisecond }, "--delivery-lease"},
		{"delivery lease over 1h", func(c *Config) { c.DeliveryLease = time.Hour + time.Second }, "--delivery-lease"},
		{"not a PostgreSQL URL", func(c *Config) { c.DatabaseURL = "mysql://db/hookline" }, "--database-url"},
		{"a PostgreSQL URL", func(c *Config) { c.DatabaseURL = "postgresql://hookline@db/hookline" }, ""},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "--workers"},
		{"negative rate", func(c *Config) { c.APIRate = -1 }, "--api-rate-limit"},
		{"zero retry delay", func(c *Config) { c.RetrySchedule = []time.Duration{0} }, "--retry-schedule"},
		{"short admin token", func(c *Config) { c.AdminToken = "short" }, "HOOKLINE_ADMIN_TOKEN"},
		{"email without password", func(c *Config) { c.AdminEmail = "a@example.com" }, "HOOKLINE_ADMIN_PASSWORD"},
		{"public URL not absolute", func(c *Config) { c.PublicURL = "hookline.example.com" }, "--public-url"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		err := cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v; want valid", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v; want an error naming %s", tt.name, err, tt.want)
		}
	}
}
