package io.sparkvision.ingest;

import com.univocity.parsers.csv.CsvFormat;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import com.univocity.parsers.csv.CsvWriter;
import com.univocity.parsers.csv.CsvWriterSettings;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The one reader and writer of manifest CSV lines (data-schemas/manifest.md): RFC 4180 quoting, so a path with a
 * comma or a quote round-trips. Every manifest is read line by line (Spark's {@code textFile} splits on newlines),
 * so a field may not hold a line break: the writer refuses one naming the value.
 */
public final class ManifestCsv {
    /** The header of a dataset manifest. */
    public static final String HEADER = "path,label,split";

    /** One parsed row: null for a column the line does not have. */
    public record Row(String path, String label, String split) implements Serializable {
    }

    // Parsers and writers are not thread-safe; executors parse on several task threads at once.
    private static final ThreadLocal<CsvParser> PARSER = ThreadLocal.withInitial(() -> new CsvParser(parserSettings()));
    private static final ThreadLocal<CsvWriter> WRITER = ThreadLocal.withInitial(() -> new CsvWriter(writerSettings()));

    /** Data rows parsed by {@link #dataFields} in this JVM (a test reads it on the driver: it must not parse rows). */
    private static final java.util.concurrent.atomic.AtomicLong DATA_ROWS = new java.util.concurrent.atomic.AtomicLong();

    private ManifestCsv() {
    }

    /** {@link #fields} of a data row (not a header): the executor-side readers of a manifest parse rows with this. */
    public static String[] dataFields(String line) {
        DATA_ROWS.incrementAndGet();
        return fields(line);
    }

    public static long dataRowsParsedInThisJvm() {
        return DATA_ROWS.get();
    }

    /** The fields of one line, unquoted, exactly as written (no trimming; an empty field is ""). */
    public static String[] fields(String line) {
        String[] f = PARSER.get().parseLine(line);
        return f == null ? new String[] {""} : f;
    }

    /** A dataset manifest line as path, label, split (absent columns null). */
    public static Row row(String line) {
        String[] f = fields(line);
        return new Row(f[0], f.length > 1 ? f[1] : null, f.length > 2 ? f[2] : null);
    }

    /** True for the header row of a manifest (first field "path", any case). */
    public static boolean isHeader(String line) {
        String[] f = fields(line);
        return f.length >= 2 && f[0].strip().equalsIgnoreCase("path");
    }

    /** One line (no line separator), each field quoted only where it needs it. */
    public static String line(String... fields) {
        for (String v : fields) {
            if (v != null && (v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0)) {
                throw new IllegalArgumentException("manifest value '" + v.replace("\n", "\\n").replace("\r", "\\r")
                        + "' holds a line break, which a manifest cannot hold; rename the file or class");
            }
        }
        return WRITER.get().writeRowToString((Object[]) fields);
    }

    /** Column index of {@code name} in a header line, or -1. */
    public static int column(String headerLine, String name) {
        return List.of(fields(headerLine)).indexOf(name);
    }

    /** Lines of a whole manifest text (either line separator), empty ones dropped. */
    public static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (String l : text.split("\r?\n")) if (!l.isEmpty()) out.add(l);
        return out;
    }

    private static CsvParserSettings parserSettings() {
        CsvParserSettings s = new CsvParserSettings();
        format(s.getFormat());
        // Exactly as written: the hand-split parser this replaces kept spaces and empty fields.
        s.setIgnoreLeadingWhitespaces(false);
        s.setIgnoreTrailingWhitespaces(false);
        s.setIgnoreLeadingWhitespacesInQuotes(false);
        s.setIgnoreTrailingWhitespacesInQuotes(false);
        s.setNullValue("");
        s.setEmptyValue("");
        s.setSkipEmptyLines(false);
        s.setMaxCharsPerColumn(-1);
        return s;
    }

    private static CsvWriterSettings writerSettings() {
        CsvWriterSettings s = new CsvWriterSettings();
        format(s.getFormat());
        s.setIgnoreLeadingWhitespaces(false);
        s.setIgnoreTrailingWhitespaces(false);
        s.setQuoteEscapingEnabled(true); // a value holding a quote is quoted, its quotes doubled
        s.setNullValue("");
        s.setEmptyValue("");
        return s;
    }

    private static void format(CsvFormat f) {
        f.setDelimiter(',');
        f.setQuote('"');
        f.setQuoteEscape('"');
        f.setComment('\0'); // '#' is a valid first character of a path; readers that allow comments check it themselves
        f.setLineSeparator("\n");
    }
}
