package io.sparkvision.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One typed job option: its key, default, description and what values it accepts.
 * Reading it from a {@link Config} either yields a valid value or throws a {@link ConfigError} naming the key.
 */
public final class Option<T> {
    public enum Kind { INT, LONG, DOUBLE, BOOLEAN, STRING, CHOICE, STRING_LIST, FRACTIONS }

    /**
     * An option value out of a fixed set, as an enum: jobs switch on the constant instead of comparing strings.
     * {@link #label()} is what users write in job files (and what provenance records); implement {@code toString}
     * as the label so messages show it too.
     */
    public interface Choice {
        /** By default the constant's name in lower case with dashes: GRADIENT_SHARING is "gradient-sharing". */
        default String label() {
            return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final String key;
    private final Kind kind;
    private final T defaultValue;
    private final String description;
    private final double min;
    private final double max;
    private final List<String> choices;
    private final List<? extends Choice> constants; // CHOICE options: the enum constants, in the order of choices
    private final boolean secret;

    private Option(String key, Kind kind, T defaultValue, String description, double min, double max, List<String> choices) {
        this(key, kind, defaultValue, description, min, max, choices, List.of(), false);
    }

    private Option(String key, Kind kind, T defaultValue, String description, double min, double max, List<String> choices,
                   List<? extends Choice> constants, boolean secret) {
        this.secret = secret;
        this.constants = constants;
        this.key = key;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.description = description;
        this.min = min;
        this.max = max;
        this.choices = choices;
    }

    public static Option<Integer> integer(String key, int def, int min, int max, String description) {
        return new Option<>(key, Kind.INT, def, description, min, max, List.of());
    }

    public static Option<Long> longInt(String key, long def, String description) {
        return new Option<>(key, Kind.LONG, def, description, Long.MIN_VALUE, Long.MAX_VALUE, List.of());
    }

    public static Option<Double> decimal(String key, double def, double min, double max, String description) {
        return new Option<>(key, Kind.DOUBLE, def, description, min, max, List.of());
    }

    public static Option<Boolean> flag(String key, boolean def, String description) {
        return new Option<>(key, Kind.BOOLEAN, def, description, 0, 0, List.of());
    }

    /** A free string; an empty default means "not set". */
    public static Option<String> string(String key, String def, String description) {
        return new Option<>(key, Kind.STRING, def, description, 0, 0, List.of());
    }

    public static Option<String> choice(String key, String def, List<String> choices, String description) {
        if (!choices.contains(def)) throw new IllegalArgumentException(key + ": default not among choices");
        return new Option<>(key, Kind.CHOICE, def, description, 0, 0, List.copyOf(choices));
    }

    /** One constant of enum {@code E}, written as its {@link Choice#label() label} (case-insensitive). */
    public static <E extends Enum<E> & Choice> Option<E> oneOf(String key, E def, String description) {
        List<E> constants = List.of(def.getDeclaringClass().getEnumConstants());
        List<String> labels = new ArrayList<>();
        for (E c : constants) labels.add(c.label());
        return new Option<>(key, Kind.CHOICE, def, description, 0, 0, List.copyOf(labels), constants, false);
    }

    /** A list of non-empty strings, e.g. {@code ["T-shirt/top", "Trouser"]}; the default is the empty list. */
    public static Option<List<String>> stringList(String key, String description) {
        return new Option<>(key, Kind.STRING_LIST, List.of(), description, 0, 0, List.of());
    }

    /**
     * Names with fractions in [0, 1], e.g. {@code { train = 0.8, test = 0.2 }}, read into a map sorted by name; the
     * default is the empty map. Whether they must add up to 1 is the user's check.
     */
    public static Option<Map<String, Double>> fractions(String key, String description) {
        return new Option<>(key, Kind.FRACTIONS, Map.of(), description, 0, 1, List.of());
    }

    /** The same option, marked as a credential: never printed in provenance, reports or logs. */
    public Option<T> secret() {
        return new Option<>(key, kind, defaultValue, description, min, max, choices, constants, true);
    }

    public boolean isSecret() { return secret; }
    public String key() { return key; }
    public Kind kind() { return kind; }
    public T defaultValue() { return defaultValue; }
    public String description() { return description; }
    public List<String> choices() { return choices; }

    /** What a user may write here, for help text and error messages. */
    public String accepted() {
        switch (kind) {
            case INT:
            case LONG:
                return (min == Long.MIN_VALUE && max == Long.MAX_VALUE) ? "an integer"
                        : "an integer from " + (long) min + " to " + (long) max;
            case DOUBLE:
                return "a number from " + fmt(min) + " to " + fmt(max);
            case BOOLEAN:
                return "true or false";
            case CHOICE:
                return "one of " + String.join(", ", choices);
            case STRING_LIST:
                return "a list of strings, e.g. [a, b]";
            case FRACTIONS:
                return "an object of names and numbers from 0 to 1, e.g. { train = 0.8, test = 0.2 }";
            default:
                return "a string";
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    @SuppressWarnings("unchecked")
    T read(Config config, String origin) {
        if (!config.hasPath(key)) return defaultValue;
        if (kind == Kind.STRING_LIST || kind == Kind.FRACTIONS) return (T) readCollection(config, origin);
        if (config.getValue(key).valueType() == ConfigValueType.OBJECT || config.getValue(key).valueType() == ConfigValueType.LIST) {
            throw bad(origin, config.getValue(key).render(), "expected " + accepted() + ", got a " + config.getValue(key).valueType().name().toLowerCase(Locale.ROOT));
        }
        String raw = config.getValue(key).unwrapped() == null ? "null" : String.valueOf(config.getValue(key).unwrapped());
        try {
            switch (kind) {
                case INT: {
                    int v = config.getInt(key);
                    if (v < min || v > max) throw bad(origin, raw, "must be " + accepted());
                    return (T) Integer.valueOf(v);
                }
                case LONG:
                    return (T) Long.valueOf(config.getLong(key));
                case DOUBLE: {
                    double v = config.getDouble(key);
                    if (Double.isNaN(v) || v < min || v > max) throw bad(origin, raw, "must be " + accepted());
                    return (T) Double.valueOf(v);
                }
                case BOOLEAN:
                    return (T) Boolean.valueOf(config.getBoolean(key));
                case CHOICE: {
                    // Case-insensitive, returning the choice as declared: some are camelCase (top1Accuracy), and
                    // lower-casing the input alone made those, defaults included, impossible to write.
                    String v = config.getString(key).trim();
                    for (int i = 0; i < choices.size(); i++) {
                        if (choices.get(i).equalsIgnoreCase(v)) return (T) (constants.isEmpty() ? choices.get(i) : constants.get(i));
                    }
                    throw bad(origin, raw, "must be " + accepted());
                }
                default:
                    return (T) config.getString(key);
            }
        } catch (ConfigException.WrongType e) {
            throw bad(origin, raw, "expected " + accepted());
        }
    }

    private Object readCollection(Config config, String origin) {
        ConfigValue v = config.getValue(key);
        String raw = v.render(ConfigRenderOptions.concise());
        if (kind == Kind.STRING_LIST) {
            if (v.valueType() != ConfigValueType.LIST) throw bad(origin, raw, "expected " + accepted());
            List<String> out = new ArrayList<>();
            for (ConfigValue item : (ConfigList) v) {
                if (item.valueType() == ConfigValueType.LIST || item.valueType() == ConfigValueType.OBJECT
                        || item.unwrapped() == null || String.valueOf(item.unwrapped()).isBlank()) {
                    throw bad(origin, raw, "every item must be a non-empty string; got " + item.render(ConfigRenderOptions.concise()));
                }
                out.add(String.valueOf(item.unwrapped()).strip());
            }
            return List.copyOf(out);
        }
        if (v.valueType() != ConfigValueType.OBJECT) throw bad(origin, raw, "expected " + accepted());
        Map<String, Double> out = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : ((ConfigObject) v).entrySet()) {
            Object n = e.getValue().unwrapped();
            double d;
            try {
                d = n instanceof Number ? ((Number) n).doubleValue() : Double.parseDouble(String.valueOf(n).strip());
            } catch (NumberFormatException ex) {
                throw bad(origin, raw, "'" + e.getKey() + "' must be a number from 0 to 1");
            }
            if (Double.isNaN(d) || d < min || d > max) throw bad(origin, raw, "'" + e.getKey() + "' must be a number from 0 to 1");
            out.put(e.getKey(), d);
        }
        return Collections.unmodifiableMap(out);
    }

    private ConfigError bad(String origin, String raw, String why) {
        return new ConfigError(origin + ": " + key + " = " + (secret ? "<redacted>" : raw) + ": " + why + " (" + description + ")");
    }
}
