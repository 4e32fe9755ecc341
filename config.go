package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // TZ_REGION must resolve on hosts without a zoneinfo database
)

// config is everything Layan reads from its environment, once, at start.
type config struct {
	RedisURL    string
	RedisPrefix string
	DataDir     string
	HTTPAddr    string
	ContentDir  string
	RegionName  string
	Location    *time.Location
	LogLevel    slog.Level
}

// loadConfig reads and validates the environment. getenv is os.Getenv outside tests.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		RedisURL:    get("REDIS_URL", ""),
		RedisPrefix: get("REDIS_PREFIX", "layan:"),
		DataDir:     get("DATA_DIR", "./data"),
		HTTPAddr:    get("HTTP_ADDR", "127.0.0.1:8080"),
		ContentDir:  get("CONTENT_DIR", ""),
		RegionName:  get("REGION_NAME", ""),
	}
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR %q: want host:port", c.HTTPAddr))
	}
	tz := get("TZ_REGION", "Asia/Jakarta")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Errorf("TZ_REGION %q: unknown time zone", tz))
	}
	c.Location = loc
	if c.ContentDir != "" {
		if st, err := os.Stat(c.ContentDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("CONTENT_DIR %q: not a directory", c.ContentDir))
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error"))
	}
	if !strings.HasSuffix(c.RedisPrefix, ":") {
		c.RedisPrefix += ":"
	}
	return c, errors.Join(errs...)
}
