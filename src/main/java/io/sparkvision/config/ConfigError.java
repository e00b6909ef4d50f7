package io.sparkvision.config;

/** A job file or override that cannot be used. The message names the key, the value and what is accepted. */
public final class ConfigError extends RuntimeException {
    public ConfigError(String message) {
        super(message);
    }
}
