package io.sparkvision.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.apache.commons.lang3.StringUtils;

import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job's resolved configuration: the job file, then {@code --set key=value} overrides, over the defaults of
 * {@link Options}. Loading validates every key and value, so a typo fails here, before Spark starts.
 */
public final class JobConfig {
    private final Config config;
    private final String origin;
    private final Map<String, Object> values = new LinkedHashMap<>();

    private JobConfig(Config config, String origin) {
        this.config = config;
        this.origin = origin;
        rejectUnknownKeys();
        for (Option<?> o : Options.all()) values.put(o.key(), o.read(config, origin));
    }

    /** Loads {@code jobFile} (may be null: defaults only) with overrides of the form {@code key=value}. */
    public static JobConfig load(File jobFile, List<String> overrides) {
        Config base = ConfigFactory.empty();
        String origin = "defaults";
        if (jobFile != null) {
            if (!jobFile.isFile()) {
                throw new ConfigError("job file " + jobFile + " does not exist; pass one of the files in jobs/ or a copy of one");
            }
            origin = jobFile.getPath();
            try {
                base = ConfigFactory.parseFile(jobFile).resolve();
            } catch (ConfigException e) {
                throw new ConfigError(jobFile + ": not valid HOCON: " + e.getMessage());
            }
        }
        Config merged = base;
        for (String override : overrides) {
            Config o = parseOverride(override);
            String key = override.substring(0, override.indexOf('=')).trim();
            // An option's value is replaced whole: an object value (ingest.split-fractions) must not merge with the
            // job file's, or {train = 0.9, test = 0.1} over {train = 0.8, val = 0.1, test = 0.1} would keep val.
            boolean option = Options.all().stream().anyMatch(opt -> opt.key().equals(key));
            merged = option && o.hasPath(key) ? merged.withValue(key, o.getValue(key)) : o.withFallback(merged);
        }
        if (!overrides.isEmpty()) origin = origin + " + --set";
        return new JobConfig(merged, origin);
    }

    public static JobConfig fromString(String hocon) {
        try {
            return new JobConfig(ConfigFactory.parseString(hocon).resolve(), "job");
        } catch (ConfigException e) {
            throw new ConfigError("job: not valid HOCON: " + e.getMessage());
        }
    }

    static Config parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) throw new ConfigError("--set " + override + ": expected key=value, e.g. --set train.epochs=3");
        String key = override.substring(0, eq).trim();
        String value = override.substring(eq + 1).trim();
        try {
            Config parsed = ConfigFactory.parseString(key + " = " + value);
            if (parsed.hasPath(key)) return parsed;
        } catch (ConfigException ignored) {
            // values such as local[*] or paths are not HOCON literals: take them as plain strings below
        }
        try {
            return ConfigFactory.empty().withValue(key, ConfigValueFactory.fromAnyRef(value));
        } catch (ConfigException e) {
            throw new ConfigError("--set " + override + ": '" + key + "' is not a valid key");
        }
    }

    private void rejectUnknownKeys() {
        List<String> known = new ArrayList<>();
        for (Option<?> o : Options.all()) known.add(o.key());
        List<String> problems = new ArrayList<>();
        for (String key : new TreeMap<>(config.root().unwrapped()).keySet()) {
            collectUnknown(key, known, problems);
        }
        if (!problems.isEmpty()) throw new ConfigError(origin + ": " + String.join("; ", problems));
    }

    private void collectUnknown(String path, List<String> known, List<String> problems) {
        if (known.contains(path)) return;
        boolean isPrefix = known.stream().anyMatch(k -> k.startsWith(path + "."));
        if (isPrefix && config.getValue(path) instanceof com.typesafe.config.ConfigObject) {
            for (String child : new TreeMap<>(config.getConfig(path).root().unwrapped()).keySet()) {
                collectUnknown(path + "." + child, known, problems);
            }
            return;
        }
        String nearest = known.stream().min(Comparator.comparingInt(k -> StringUtils.getLevenshteinDistance(k, path))).orElse("");
        boolean close = StringUtils.getLevenshteinDistance(nearest, path) <= Math.max(2, path.length() / 4);
        problems.add("unknown key '" + path + "'" + (close ? " (did you mean '" + nearest + "'?)" : "")
                + "; run with --help for the keys a job accepts");
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Option<T> option) {
        return (T) values.get(option.key());
    }

    /** The value of a string option that the job cannot run without. */
    public String require(Option<String> option, String why) {
        String v = get(option);
        if (v == null || v.isBlank()) {
            throw new ConfigError(origin + ": " + option.key() + " is not set: " + why + " (" + option.description() + ")");
        }
        return v;
    }

    /** Throws a {@link ConfigError} naming {@code option} unless {@code ok}. */
    public void check(boolean ok, Option<?> option, String why) {
        if (!ok) throw new ConfigError(origin + ": " + option.key() + " = " + (option.isSecret() ? "<redacted>" : get(option)) + ": " + why);
    }

    /** Every option with its resolved value, for provenance; credentials are redacted. */
    public Map<String, Object> resolved() {
        Map<String, Object> out = new LinkedHashMap<>(values);
        for (Option<?> o : Options.all()) {
            Object v = out.get(o.key());
            if (o.isSecret() && v != null && !String.valueOf(v).isEmpty()) out.put(o.key(), "<redacted>");
            else if (v instanceof Option.Choice c) out.put(o.key(), c.label()); // as written in job files
        }
        return out;
    }

    public String origin() {
        return origin;
    }

    /**
     * This configuration with some keys replaced: how a job that runs other jobs (the nightly retrain runs train and
     * evaluate) hands them their inputs and outputs while everything else the user set still applies.
     */
    public JobConfig with(Map<String, ?> replacements) {
        Config replaced = config;
        for (Map.Entry<String, ?> e : replacements.entrySet()) {
            Object v = e.getValue() instanceof Option.Choice c ? c.label() : e.getValue(); // as a job file would say it
            replaced = replaced.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(v));
        }
        return new JobConfig(replaced, origin);
    }

}
