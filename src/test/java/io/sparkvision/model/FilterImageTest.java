package io.sparkvision.model;

import io.sparkvision.cli.Main;
import io.sparkvision.image.InputShape;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Sgd;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code models filters}: a saved model's first-layer kernels become a PNG grid of the expected size. */
class FilterImageTest {
    @TempDir
    File dir;

    private File save(Model m, String name) throws Exception {
        Path zip = new Path(new File(dir, name + ".zip").toURI());
        ModelFiles.save(m, zip, Map.of("model", name), new Configuration());
        return new File(dir, name + ".zip");
    }

    @Test
    void ninetySixRgbKernelsOfElevenByElevenFromTheCommandLine() throws Exception {
        // NiN's first layer is AlexNet's (96 kernels of 11x11x3, stride 4) without AlexNet's 17M-weight FC7 to
        // serialise (the zip write/read dominated this test with AlexNet); the rendering path is the same.
        Model m = Architectures.get("nin").build(new InputShape(3, 67, 67), 10, 1, new Sgd(0.1), 0);
        assertEquals(96 * 3 * 11 * 11 + 96, FilterImage.firstConv(m).numParams());
        File zip = save(m, "nin");
        File png = new File(dir, "out/filters.png");
        assertEquals(0, Main.execute("models", "filters", zip.getPath(), "--out", png.getPath()));
        BufferedImage img = ImageIO.read(png);
        int scale = FilterImage.scaleFor(11); // 5 px per weight -> 55 px tiles
        assertEquals(5, scale);
        // 96 kernels -> 10 columns x 10 rows (ceil(sqrt(96)) = 10), tiles separated by 2 px
        assertEquals(10 * (11 * scale + FilterImage.GAP) + FilterImage.GAP, img.getWidth());
        assertEquals(10 * (11 * scale + FilterImage.GAP) + FilterImage.GAP, img.getHeight());
        assertTrue(hasColour(img), "3-channel kernels are drawn in colour");
        // min-max normalised per kernel: each tile spans black-to-white in at least one channel
        int lo = 255, hi = 0;
        for (int y = 0; y < 11 * scale; y++) {
            for (int x = 0; x < 11 * scale; x++) {
                int p = img.getRGB(FilterImage.GAP + x, FilterImage.GAP + y);
                for (int c : new int[] {(p >> 16) & 255, (p >> 8) & 255, p & 255}) {
                    lo = Math.min(lo, c);
                    hi = Math.max(hi, c);
                }
            }
        }
        assertEquals(0, lo, "first tile's darkest value");
        assertEquals(255, hi, "first tile's brightest value");
        assertEquals(0xFFFFFFFF, img.getRGB(0, 0), "white gap around the tiles");
    }

    @Test
    void greyKernelsForOneChannelAndGraphsLoadToo() throws Exception {
        File lenet = save(Architectures.get("lenet5").build(new InputShape(1, 28, 28), 10, 1, new Sgd(0.1), 0), "lenet");
        BufferedImage img = FilterImage.render(ModelFiles.load(new Path(lenet.toURI()), new Configuration()));
        int s = FilterImage.scaleFor(5); // 10 px per weight
        // 6 kernels -> 3 columns x 2 rows
        assertEquals(3 * (5 * s + FilterImage.GAP) + FilterImage.GAP, img.getWidth());
        assertEquals(2 * (5 * s + FilterImage.GAP) + FilterImage.GAP, img.getHeight());
        assertTrue(!hasColour(img), "1-channel kernels are grey");

        // a graph (MobileNetV2, the smallest one to save): 32 kernels of 3x3x3 -> 6 columns x 6 rows, 16 px per weight
        File mnv2 = save(Architectures.get("mobilenetv2").build(new InputShape(3, 32, 32), 10, 1, new Sgd(0.1), 0), "mnv2");
        Model g = ModelFiles.load(new Path(mnv2.toURI()), new Configuration());
        assertInstanceOf(ComputationGraph.class, g);
        BufferedImage r = FilterImage.render(g);
        assertEquals(16, FilterImage.scaleFor(3));
        assertEquals(6 * (3 * 16 + FilterImage.GAP) + FilterImage.GAP, r.getWidth());
        assertEquals(6 * (3 * 16 + FilterImage.GAP) + FilterImage.GAP, r.getHeight());
    }

    private static boolean hasColour(BufferedImage img) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y), r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
                if (r != g || g != b) return true;
            }
        }
        return false;
    }
}
