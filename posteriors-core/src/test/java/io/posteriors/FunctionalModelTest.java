package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FunctionalModelTest {

    private static final Shape INPUT = new Shape(5, 6);

    private NDManager manager;
    private SequentialBlock block;
    private NDArray x;

    /** Linear(4) -> tanh -> [Linear(3) -> Linear(2)]: a sequential block with a nested one. */
    private static SequentialBlock network() {
        SequentialBlock inner = new SequentialBlock();
        inner.add(Linear.builder().setUnits(3).build());
        inner.add(Linear.builder().setUnits(2).build());
        SequentialBlock outer = new SequentialBlock();
        outer.add(Linear.builder().setUnits(4).build());
        outer.add(Activation::tanh);
        outer.add(inner);
        return outer;
    }

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(61);
        block = network();
        block.initialize(manager, DataType.FLOAT64, INPUT);
        x = TestArrays.normal(manager, new Random(61), INPUT);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** The same network written out with the tree's arrays: y = x W^T + b per layer. */
    private static NDArray byHand(TensorTree p, NDArray x) {
        List<String> n = p.names();
        NDArray h = x.matMul(p.get(n.get(0)).transpose()).add(p.get(n.get(1))).tanh();
        h = h.matMul(p.get(n.get(2)).transpose()).add(p.get(n.get(3)));
        return h.matMul(p.get(n.get(4)).transpose()).add(p.get(n.get(5)));
    }

    @Test
    void forward_leafOfWrongShape_isRejectedByNameBeforeTheEngine() {
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree own = TensorTree.fromBlock(block);
        String first = own.names().get(0);
        Shape want = own.get(first).getShape();
        TensorTree bad =
                own.mapWithName(
                        (k, a) ->
                                k.equals(first)
                                        ? manager.zeros(new Shape(want.get(1), want.get(0)))
                                        : a);
        IllegalArgumentException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> model.forward(bad, new ai.djl.ndarray.NDList(x)));
        assertEquals(
                Checks.format(
                        "params leaf '%s' must have shape %s for the block, got %s",
                        first, want, new Shape(want.get(1), want.get(0))),
                e.getMessage());
    }

    @Test
    void parameterNames_matchTreeFromBlock() {
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree params = TensorTree.fromBlock(block);
        assertEquals(params.names(), model.parameterNames());
        assertEquals(6, params.size());
        assertTrue(params.names().get(2).startsWith("03"), "nested names carry the child index");
    }

    @Test
    void forward_withBlocksOwnParameters_equalsBlockForward() {
        FunctionalModel model = FunctionalModel.of(block);
        NDArray own =
                block.forward(new ParameterStore(manager, false), new NDList(x), false)
                        .singletonOrThrow();
        NDArray functional =
                model.forward(TensorTree.fromBlock(block), new NDList(x)).singletonOrThrow();
        assertEquals(new Shape(5, 2), functional.getShape());
        assertArrayEquals(TestArrays.doubles(own), TestArrays.doubles(functional));
    }

    @Test
    void forward_withOtherParameters_usesThemAndNotTheBlocks() {
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree own = TensorTree.fromBlock(block);
        double[] before = TestArrays.flat(own);
        TensorTree other = own.map(a -> a.mul(-0.7).add(0.1));
        NDArray y = model.forward(other, new NDList(x)).singletonOrThrow();
        assertArrayEquals(TestArrays.doubles(byHand(other, x)), TestArrays.doubles(y), 1e-12);
        assertArrayEquals(before, TestArrays.flat(own), "the block's parameters are untouched");
    }

    @Test
    void gradients_reachTheTree_andNotTheBlock() {
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree p = TensorTree.fromBlock(block).copy();
        p.forEach((k, a) -> a.setRequiresGradient(true));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = model.forward(p, new NDList(x)).singletonOrThrow().sum();
            gc.backward(loss);
            // last layer by hand: d sum(y) / d b = n per output, d sum(y) / d W = 1 (sum_i h_i)
            NDArray lastBias = p.get(p.names().get(5)).getGradient();
            assertArrayEquals(new double[] {5, 5}, TestArrays.doubles(lastBias), 1e-12);
            List<String> n = p.names();
            NDArray h =
                    x.matMul(p.get(n.get(0)).transpose())
                            .add(p.get(n.get(1)))
                            .tanh()
                            .matMul(p.get(n.get(2)).transpose())
                            .add(p.get(n.get(3)));
            double[] colSums = TestArrays.doubles(h.sum(new int[] {0}));
            double[] lastWeight = TestArrays.doubles(p.get(n.get(4)).getGradient());
            assertArrayEquals(concat(colSums, colSums), lastWeight, 1e-12);
            for (String k : n) {
                double[] g = TestArrays.doubles(p.get(k).getGradient());
                assertTrue(TestArrays.norm(g) > 0, "gradient reaches leaf " + k);
            }
            for (Pair<String, Parameter> param : block.getParameters()) {
                NDArray own = param.getValue().getArray();
                if (own.hasGradient()) {
                    assertEquals(
                            0.0,
                            TestArrays.norm(TestArrays.doubles(own.getGradient())),
                            "block parameter " + param.getKey() + " got a gradient");
                }
            }
        }
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = new double[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void uninitialisedBlock_runsInInference_withTreeOfRightNamesAndShapes() {
        SequentialBlock fresh = network();
        assertFalse(fresh.isInitialized());
        FunctionalModel model = FunctionalModel.of(fresh);
        TensorTree params = TensorTree.fromBlock(block);
        assertEquals(params.names(), model.parameterNames(), "identical blocks, identical names");
        NDArray y = model.forward(params, new NDList(x)).singletonOrThrow();
        assertArrayEquals(TestArrays.doubles(byHand(params, x)), TestArrays.doubles(y), 1e-12);
        assertFalse(fresh.isInitialized(), "an inference call does not initialise the block");
    }

    @Test
    void missingLeaf_isNamedInTheError() {
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree params = TensorTree.fromBlock(block);
        String dropped = params.names().get(3);
        TensorTree partial = params.subset(k -> !k.equals(dropped));
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> model.forward(partial, new NDList(x)));
        assertTrue(e.getMessage().contains("'" + dropped + "'"), e.getMessage());
        assertThrows(NullPointerException.class, () -> model.forward(null, new NDList(x)));
        assertThrows(IllegalArgumentException.class, () -> model.forward(params, new NDList()));
        var n = assertThrows(NullPointerException.class, () -> FunctionalModel.of(null));
        assertEquals("block", n.getMessage());
    }
}
