package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class DatasetWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesTheManifestThenASchemaValidDescriptorThatHashesIt() throws IOException {
        List<String> rows = List.of("train/a/1.png,a,train", "train/b/2.png,b,train", "test/a/3.png,a,test");
        DatasetDescriptor d = DatasetWriter.write(new org.apache.hadoop.fs.Path(dir.toUri()), rows,
                new DatasetWriter.Description("tiny", "image-folder").classes(List.of("a", "b")).geometry(1, 4, 4)
                        .counts(Map.of("train", 2L, "test", 1L), Map.of("train", Map.of("a", 1L, "b", 1L), "test", Map.of("a", 1L, "b", 0L)))
                        .normalisation(new double[] {0.5}, new double[] {0.25}).source("file:/src", "sha256:" + "0".repeat(64))
                        .splitFractions(Map.of()), new Configuration());
        byte[] manifest = Files.readAllBytes(dir.resolve(DatasetDescriptor.MANIFEST));
        assertEquals("path,label,split\n" + String.join("\n", rows) + "\n", new String(manifest));
        assertEquals(Hashing.sha256(manifest), d.manifestHash());
        DatasetDescriptor read = Json.read(Files.readString(dir.resolve(DatasetDescriptor.FILE_NAME)), DatasetDescriptor.class);
        assertEquals(d.manifestHash(), read.manifestHash());
        assertArrayEquals(new double[] {0.5}, read.mean());
        assertNull(read.splitFractions(), "empty split fractions are not recorded");
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(dir.resolve(DatasetDescriptor.FILE_NAME)), "dataset.json");
    }
}
