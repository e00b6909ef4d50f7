package io.sparkvision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Validates real job output against the schemas in data-schemas/. */
public final class Schemas {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Schemas() {
    }

    public static void assertValid(String schemaFile, JsonNode doc, String what) {
        Path dir = TestSpark.basedir().resolve("data-schemas");
        JsonSchemaFactory f = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
                b -> b.schemaMappers(m -> m.mapPrefix("https://sparkvision.dev/schemas/", dir.toUri().toString())));
        SchemaValidatorsConfig cfg = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        JsonSchema schema = f.getSchema(SchemaLocation.of("https://sparkvision.dev/schemas/" + schemaFile), cfg);
        Set<ValidationMessage> errors = schema.validate(doc);
        assertTrue(errors.isEmpty(), what + " does not match data-schemas/" + schemaFile + ": " + errors);
    }

    public static JsonNode read(Path file) throws IOException {
        return MAPPER.readTree(Files.readString(file));
    }

    public static JsonNode parse(String json) throws IOException {
        return MAPPER.readTree(json);
    }
}
