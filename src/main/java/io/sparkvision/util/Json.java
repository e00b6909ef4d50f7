package io.sparkvision.util;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The product's one JSON mapper: pretty for files people read, compact for JSON Lines. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private Json() {
    }

    public static String pretty(Object o) {
        try {
            return MAPPER.writeValueAsString(o) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String line(Object o) {
        try {
            return COMPACT.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static <T> T read(String json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An object (a record, say) as the JSON object it is written as: for maps handed back to callers that read them
     * as parsed JSON, such as a job's returned report.
     */
    public static java.util.Map<String, Object> asMap(Object o) {
        return MAPPER.convertValue(o, new com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, Object>>() { });
    }

    /** A JSON array of numbers (as read into a List) as doubles, e.g. a model's mean and std. */
    public static double[] doubles(Object list) {
        java.util.List<?> l = (java.util.List<?>) list;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) d[i] = ((Number) l.get(i)).doubleValue();
        return d;
    }
}
