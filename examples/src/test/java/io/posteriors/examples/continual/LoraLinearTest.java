package io.posteriors.examples.continual;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import io.posteriors.Autodiff;
import io.posteriors.FunctionalModel;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LoraLinearTest {

    private static final int N = 5;
    private static final int IN = 4;
    private static final int OUT = 3;
    private static final int RANK = 2;
    private static final double ALPHA = 3.0;

    private static double[] random(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }

    /** y[i][o] = Σ_k x[i][k] W[o][k] + b[o] + (alpha / r) Σ_j (Σ_k x[i][k] A[j][k]) B[o][j]. */
    private static double[] reference(double[] x, double[] w, double[] b, double[] a, double[] bb) {
        double[] y = new double[N * OUT];
        for (int i = 0; i < N; i++) {
            for (int o = 0; o < OUT; o++) {
                double s = b[o];
                for (int k = 0; k < IN; k++) {
                    s += x[i * IN + k] * w[o * IN + k];
                }
                double low = 0;
                for (int j = 0; j < RANK; j++) {
                    double xa = 0;
                    for (int k = 0; k < IN; k++) {
                        xa += x[i * IN + k] * a[j * IN + k];
                    }
                    low += xa * bb[o * RANK + j];
                }
                y[i * OUT + o] = s + ALPHA / RANK * low;
            }
        }
        return y;
    }

    private static TensorTree adapters(
            NDManager m, FunctionalModel model, double[] a, double[] bb) {
        List<String> names = model.parameterNames();
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put(names.get(0), m.create(a, new Shape(RANK, IN)));
        leaves.put(names.get(1), m.create(bb, new Shape(OUT, RANK)));
        return TensorTree.of(leaves);
    }

    @Test
    void forward_zeroB_equalsWrappedLinear() {
        Engine.getInstance().setRandomSeed(3);
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = Linear.builder().setUnits(OUT).build();
            linear.initialize(m, DataType.FLOAT32, new Shape(N, IN));
            NDArray w = linear.getParameters().get("weight").getArray();
            NDArray b = linear.getParameters().get("bias").getArray();
            LoraLinear lora = new LoraLinear(w, b, RANK, ALPHA);
            lora.initialize(m, DataType.FLOAT32, new Shape(N, IN));
            NDArray x = m.randomNormal(new Shape(N, IN));
            ParameterStore ps = new ParameterStore(m, false);
            float[] want = linear.forward(ps, new NDList(x), false).head().toFloatArray();
            float[] got = lora.forward(ps, new NDList(x), false).head().toFloatArray();
            assertArrayEquals(want, got, 1e-6f);
            // A starts random, B at zero, and they are the block's only parameters
            assertEquals(List.of("loraA", "loraB"), lora.getParameters().keys());
            float[] a = lora.getParameters().get("loraA").getArray().toFloatArray();
            assertTrue(java.util.Arrays.stream(toDoubles(a)).anyMatch(v -> v != 0));
            float[] bb = lora.getParameters().get("loraB").getArray().toFloatArray();
            assertArrayEquals(new float[OUT * RANK], bb);
            assertEquals(RANK * (IN + OUT), lora.trainableParameters());
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void forward_givenAdapters_matchesHandComputedFormula() {
        Random r = new Random(11);
        double[] x = random(r, N * IN);
        double[] w = random(r, OUT * IN);
        double[] b = random(r, OUT);
        double[] a = random(r, RANK * IN);
        double[] bb = random(r, OUT * RANK);
        try (NDManager m = NDManager.newBaseManager()) {
            LoraLinear lora =
                    new LoraLinear(m.create(w, new Shape(OUT, IN)), m.create(b), RANK, ALPHA);
            lora.initialize(m, DataType.FLOAT64, new Shape(N, IN));
            FunctionalModel model = FunctionalModel.of(lora);
            NDArray y =
                    model.forward(
                                    adapters(m, model, a, bb),
                                    new NDList(m.create(x, new Shape(N, IN))))
                            .singletonOrThrow();
            assertEquals(new Shape(N, OUT), y.getShape());
            assertArrayEquals(reference(x, w, b, a, bb), y.toDoubleArray(), 1e-12);
        }
    }

    @Test
    void gradient_wrtAdapters_matchesFiniteDifferences() {
        Random r = new Random(5);
        double[] x = random(r, N * IN);
        double[] w = random(r, OUT * IN);
        double[] b = random(r, OUT);
        double[] a = random(r, RANK * IN);
        double[] bb = random(r, OUT * RANK);
        double[] c = random(r, N * OUT);
        try (NDManager m = NDManager.newBaseManager()) {
            LoraLinear lora =
                    new LoraLinear(m.create(w, new Shape(OUT, IN)), m.create(b), RANK, ALPHA);
            lora.initialize(m, DataType.FLOAT64, new Shape(N, IN));
            FunctionalModel model = FunctionalModel.of(lora);
            NDArray xs = m.create(x, new Shape(N, IN));
            NDArray cs = m.create(c, new Shape(N, OUT));
            // f(A, B) = Σ c ⊙ y, a scalar whose gradient reaches every adapter entry
            LogProbFn<NDArray> f =
                    (p, batch) ->
                            LogProb.of(
                                    model.forward(p, new NDList(batch))
                                            .singletonOrThrow()
                                            .mul(cs)
                                            .sum());
            TensorTree grad = Autodiff.grad(f, adapters(m, model, a, bb), xs);
            double h = 1e-6;
            double[] gA = grad.leaves().get(0).toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                double[] plus = a.clone();
                double[] minus = a.clone();
                plus[i] += h;
                minus[i] -= h;
                double fd =
                        (dot(c, reference(x, w, b, plus, bb))
                                        - dot(c, reference(x, w, b, minus, bb)))
                                / (2 * h);
                assertEquals(fd, gA[i], 1e-6, "d f / d A[" + i + "]");
            }
            double[] gB = grad.leaves().get(1).toDoubleArray();
            for (int i = 0; i < bb.length; i++) {
                double[] plus = bb.clone();
                double[] minus = bb.clone();
                plus[i] += h;
                minus[i] -= h;
                double fd =
                        (dot(c, reference(x, w, b, a, plus)) - dot(c, reference(x, w, b, a, minus)))
                                / (2 * h);
                assertEquals(fd, gB[i], 1e-6, "d f / d B[" + i + "]");
            }
        }
    }

    private static double dot(double[] u, double[] v) {
        double s = 0;
        for (int i = 0; i < u.length; i++) {
            s += u[i] * v[i];
        }
        return s;
    }

    @Test
    void constructor_badArguments_throwNamingTheParameter() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.zeros(new Shape(OUT, IN));
            NDArray b = m.zeros(new Shape(OUT));
            String rank =
                    assertThrows(IllegalArgumentException.class, () -> new LoraLinear(w, b, 0, 1))
                            .getMessage();
            assertTrue(rank.contains("rank") && rank.contains("0"), rank);
            String alpha =
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> new LoraLinear(w, b, 1, Double.NaN))
                            .getMessage();
            assertTrue(alpha.contains("alpha") && alpha.contains("NaN"), alpha);
            String bias =
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> new LoraLinear(w, m.zeros(new Shape(IN)), 1, 1))
                            .getMessage();
            assertTrue(bias.contains("bias"), bias);
            String weight =
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> new LoraLinear(m.zeros(new Shape(IN)), null, 1, 1))
                            .getMessage();
            assertTrue(weight.contains("weight"), weight);
            LoraLinear lora = new LoraLinear(w, b, 1, 1);
            String input =
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            lora.initialize(
                                                    m, DataType.FLOAT32, new Shape(N, IN + 1)))
                            .getMessage();
            assertTrue(input.contains("input") && input.contains(String.valueOf(IN)), input);
        }
    }

    @Test
    void perSampleMoments_ofAModelWithAdapters_equalTheGenericPath() {
        // LoraLinear is a LinearComposite: the one-pass path must give the generic path's numbers
        Engine.getInstance().setRandomSeed(9);
        try (NDManager m = NDManager.newBaseManager()) {
            Random r = new Random(4);
            NDArray w1 = m.create(random(r, 6 * IN), new Shape(6, IN));
            NDArray b1 = m.create(random(r, 6), new Shape(6));
            NDArray w2 = m.create(random(r, OUT * 6), new Shape(OUT, 6));
            ai.djl.nn.SequentialBlock block = new ai.djl.nn.SequentialBlock();
            block.add(new LoraLinear(w1, b1, RANK, ALPHA));
            block.add(ai.djl.nn.Activation::tanh);
            block.add(new LoraLinear(w2, null, RANK, ALPHA));
            block.initialize(m, DataType.FLOAT64, new Shape(N, IN));
            TensorTree params =
                    TensorTree.fromBlock(block)
                            .map(
                                    a ->
                                            a.add(
                                                    m.randomNormal(a.getShape())
                                                            .toType(DataType.FLOAT64, false)
                                                            .mul(0.3)));
            NDArray x = m.create(random(r, N * IN), new Shape(N, IN));
            NDArray y = m.create(new int[] {0, 2, 1, 1, 0});
            io.posteriors.ModelLogPosterior<NDList> f =
                    io.posteriors.ModelLogPosterior.<NDList>builder(
                                    FunctionalModel.of(block),
                                    b -> new NDList(b.get(0)),
                                    (o, b) -> io.posteriors.LogLikelihoods.categorical(o, b.get(1)))
                            .build()
                            .perSample();
            LogProbFn<NDList> opaque = (p, b) -> f.apply(p, b);
            NDList batch = new NDList(x, y);
            try (Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(f, params, batch);
                    Autodiff.GradMoments generic =
                            Autodiff.perSampleGradMoments(opaque, params, batch)) {
                assertTrue(fast.sum().allClose(generic.sum(), 1e-10, 1e-12), "sum");
                assertTrue(
                        fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-10, 1e-12),
                        "sum of squares");
            }
        }
    }
}
