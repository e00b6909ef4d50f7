package io.sparkvision;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The packages follow the data, and nothing imports upward (docs/design.md, "How the code is laid out"). From the bottom:
 * util, config, io (shared by all); then image -> ingest -> data -> augment -> model -> train -> evaluate / score ->
 * ml (scoring as a Spark ML transformer and SQL function) -> report -> retrain -> jobs -> bench -> cli. Each layer may
 * use only the layers below it. A class that needs something from above belongs higher up, or the thing it needs
 * belongs lower down.
 */
class LayersTest {
    /** Bottom first. */
    static final String[] ORDER = {"util", "config", "io", "image", "ingest", "data", "augment", "model", "train",
            "evaluate", "score", "ml", "report", "retrain", "jobs", "bench", "cli"};

    /** The product's compiled classes only (target/classes); archunit.properties keeps dependencies' jars unread. */
    static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPath(TestSpark.basedir().resolve("target/classes"));

    @Test
    void packagesOnlyUseThePackagesBelowThem() {
        LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (String p : ORDER) layers = layers.layer(p).definedBy("io.sparkvision." + p + "..");
        for (int i = 0; i < ORDER.length - 1; i++) {
            String[] above = java.util.Arrays.copyOfRange(ORDER, i + 1, ORDER.length);
            layers = layers.whereLayer(ORDER[i]).mayOnlyBeAccessedByLayers(above);
        }
        layers = layers.whereLayer(ORDER[ORDER.length - 1]).mayNotBeAccessedByAnyLayer();
        layers.check(CLASSES);
    }

    @Test
    void everyPackageIsInTheOrder() {
        java.util.Set<String> known = java.util.Set.of(ORDER);
        java.util.Set<String> unplaced = new java.util.TreeSet<>();
        CLASSES.forEach(c -> {
            String p = c.getPackageName();
            if (p.startsWith("io.sparkvision.") && !known.contains(p.split("\\.")[2])) unplaced.add(p);
        });
        org.junit.jupiter.api.Assertions.assertTrue(unplaced.isEmpty(),
                "packages missing from LayersTest.ORDER (place them in the data flow): " + unplaced);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.sparkvision.(*)..").should().beFreeOfCycles().check(CLASSES);
    }
}
