package io.sparkvision.config;

import java.util.Collection;
import java.util.Map;

/**
 * docs/configuration.md, rendered from {@link Options}: every key with its type, default, accepted values and
 * description, one table per key prefix. The Options are the one source; {@code ConfigurationDocTest} fails when the
 * committed file differs from {@link #markdown()}, so the reference cannot drift from the code.
 */
public final class OptionsReference {
    /** What regenerates the file; printed in the file and by the test that finds it stale. */
    public static final String COMMAND = "scripts/sparkvision docs configuration > docs/configuration.md";

    private OptionsReference() {
    }

    /** The whole document, with "\n" line ends on every platform (it is compared byte for byte). */
    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Configuration reference\n\n")
                .append("<!-- Generated from src/main/java/io/sparkvision/config/Options.java by `").append(COMMAND)
                .append("`. Do not edit by hand: ConfigurationDocTest fails when this file differs from what that command prints. -->\n\n")
                .append("Every key a job file (HOCON, see `jobs/`) may set, or `--set key=value` may override. A key not listed\n")
                .append("here is rejected before any Spark work, with the nearest known key suggested; so is a value outside\n")
                .append("what the key accepts. `scripts/sparkvision train --help` (or any job's `--help`) prints the same list. Spark's own settings\n")
                .append("(`spark.executor.memory`, ...) are not job keys: pass them to `spark-submit`/`scripts/submit` with `--conf`.\n\n")
                .append(Options.all().size()).append(" keys.\n");
        String section = null;
        for (Option<?> o : Options.all()) {
            String prefix = o.key().substring(0, o.key().indexOf('.'));
            if (!prefix.equals(section)) {
                section = prefix;
                sb.append("\n## ").append(prefix).append("\n\n")
                        .append("| key | type | default | accepts | description |\n")
                        .append("|---|---|---|---|---|\n");
            }
            sb.append("| `").append(o.key()).append("` | ").append(type(o.kind())).append(" | ")
                    .append(defaultText(o.defaultValue())).append(" | ").append(cell(o.accepted())).append(" | ")
                    .append(cell(o.description())).append(" |\n");
        }
        return sb.toString();
    }

    private static String type(Option.Kind kind) {
        switch (kind) {
            case INT: return "integer";
            case LONG: return "long integer";
            case DOUBLE: return "number";
            case BOOLEAN: return "boolean";
            case CHOICE: return "choice";
            case STRING_LIST: return "list of strings";
            case FRACTIONS: return "fractions";
            default: return "string";
        }
    }

    private static String defaultText(Object value) {
        if (value instanceof String && ((String) value).isEmpty()) return "(unset)";
        if (value instanceof Collection && ((Collection<?>) value).isEmpty()) return "`[]`";
        if (value instanceof Map && ((Map<?, ?>) value).isEmpty()) return "`{}`";
        return "`" + value + "`";
    }

    /** A table cell: a '|' would end the cell, a line break the row, {@code <class>} would be taken for HTML, '*' for emphasis. */
    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*");
    }
}
