package io.sparkvision.report;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfusionMatrixImageTest {
    @Test
    void aThousandClassesGiveALegiblePictureOfTheTopConfusions() throws IOException {
        int n = 1000;
        long[][] m = new long[n][n];
        for (int i = 0; i < n; i++) m[i][i] = 50;
        m[207][208] = 9;  // golden retriever taken for Labrador
        m[3][900] = 4;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) names.add("class" + i);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(ConfusionMatrixImage.png(m, names)));
        assertTrue(img.getWidth() < 2000 && img.getHeight() < 2000, img.getWidth() + "x" + img.getHeight());
        assertArrayEquals(new int[] {3, 207, 208, 900}, ConfusionMatrixImage.mostConfusedClasses(m, 30));
    }

    static final List<String> SUPERCLASSES = List.of("aquatic mammals", "fish", "flowers", "food containers",
            "fruit and vegetables", "household electrical devices", "household furniture", "insects", "large carnivores",
            "large man-made outdoor things", "large natural outdoor scenes", "large omnivores and herbivores",
            "medium-sized mammals", "non-insect invertebrates", "people", "reptiles", "small mammals", "trees",
            "vehicles 1", "vehicles 2");

    /**
     * The last review found the column labels run together ("insectsmammalsvegetablesvehicles") and the title cut
     * ("(rows: true, colum"): with 8 and 30 long class names, the title's whole text fits inside the picture, and
     * at every boundary between two columns the label band above the grid has a white gap from top to bottom.
     */
    @Test
    void longClassNamesNeitherRunTogetherNorCutTheTitle() throws IOException {
        for (int n : new int[] {8, 30}) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) names.add(SUPERCLASSES.get(i % SUPERCLASSES.size()) + (i >= SUPERCLASSES.size() ? " " + i : ""));
            long[][] m = new long[n][n];
            for (int i = 0; i < n; i++) {
                m[i][i] = 40;
                m[i][(i + 1) % n] = 3;
            }
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(ConfusionMatrixImage.png(m, names)));
            ConfusionMatrixImage.Layout l = ConfusionMatrixImage.Layout.of(n, names, "Confusion matrix (rows: true class, columns: predicted class)");
            assertEquals(l.width(), img.getWidth(), n + " classes");
            assertEquals("Confusion matrix (rows: true class, columns: predicted class)", String.join(" ", l.titleLines()), "the whole title is drawn");
            java.awt.FontMetrics fm = img.createGraphics().getFontMetrics(ConfusionMatrixImage.TITLE_FONT);
            for (String line : l.titleLines()) assertTrue(10 + fm.stringWidth(line) < img.getWidth(), n + " classes: title line cut: " + line);
            // nothing drawn in the rightmost pixels of the title band
            for (int y = 0; y < l.titleBottom(); y++) assertEquals(0xffffff, img.getRGB(img.getWidth() - 2, y) & 0xffffff, "title reaches the edge at y " + y);
            int labelled = 0;
            for (int i = 1; i < n; i++) {
                int x = l.left() + i * l.cell();
                for (int y = l.titleBottom(); y < l.top() - 1; y++) {
                    assertEquals(0xffffff, img.getRGB(x, y) & 0xffffff, n + " classes: labels of columns " + (i - 1) + " and " + i + " touch at y " + y);
                }
                for (int y = l.titleBottom(); y < l.top(); y++) if ((img.getRGB(x - l.cell() / 2, y) & 0xffffff) != 0xffffff) { labelled++; break; }
            }
            assertEquals(n - 1, labelled, n + " classes: every column has its label drawn above it");
        }
    }
}
