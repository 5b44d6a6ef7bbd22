package pdk

import "fmt"

// Logf formats its arguments as fmt.Sprintf does and logs the result.
func Logf(level Level, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }

// Trace logs msg at [LevelTrace].
func Trace(msg string) { Log(LevelTrace, msg) }

// Debug logs msg at [LevelDebug].
func Debug(msg string) { Log(LevelDebug, msg) }

// Info logs msg at [LevelInfo].
func Info(msg string) { Log(LevelInfo, msg) }

// Warn logs msg at [LevelWarn].
func Warn(msg string) { Log(LevelWarn, msg) }

// Error logs msg at [LevelError].
func Error(msg string) { Log(LevelError, msg) }
