package io.sparkvision.report;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
}
