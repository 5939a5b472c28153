package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The analytic Gaussian prior of {@link ModelLogPosterior}: the same value and gradient as the
 * differentiated {@link DiagNormal} prior, and as the closed form {@code -(θ - μ) / (σ² N)} added
 * to the likelihood's gradient computed alone.
 */
class GaussianPriorTest {

    private static final double N = 50;

    private record Batch(NDArray x, NDArray y) {}

    private NDManager manager;
    private Block block;
    private TensorTree params;
    private Batch batch;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(11);
        manager = NDManager.newBaseManager();
        SequentialBlock b = new SequentialBlock();
        b.add(Linear.builder().setUnits(5).build());
        b.add(Activation::tanh);
        b.add(Linear.builder().setUnits(3).build());
        b.initialize(manager, DataType.FLOAT64, new Shape(6, 4));
        block = b;
        params = TensorTree.fromBlock(block).copy();
        batch =
                new Batch(
                        manager.randomNormal(new Shape(6, 4)).toType(DataType.FLOAT64, false),
                        manager.create(new int[] {0, 1, 2, 2, 1, 0}));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private ModelLogPosterior.Builder<Batch> builder() {
        return ModelLogPosterior.<Batch>builder(
                FunctionalModel.of(block),
                bt -> new NDList(bt.x()),
                (o, bt) -> LogLikelihoods.categorical(o, bt.y()));
    }

    private TensorTree constantTree(double value) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        params.forEach((k, a) -> m.put(k, a.onesLike().mul(value)));
        return TensorTree.of(m);
    }

    private TensorTree rampTree(double base) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        params.forEach(
                (k, a) ->
                        m.put(
                                k,
                                manager.arange(0, (int) a.size(), 1, DataType.FLOAT64)
                                        .mul(0.01)
                                        .add(base)
                                        .reshape(a.getShape())));
        return TensorTree.of(m);
    }

    /** Compares the analytic prior with the differentiated lambda and the closed form. */
    private void assertMatches(GaussianPrior prior, TensorTree mean, TensorTree sd) {
        ModelLogPosterior<Batch> analytic = builder().prior(prior, N).build();
        ModelLogPosterior<Batch> lambda =
                builder().prior(p -> DiagNormal.logProb(p, mean, sd, true), N).build();
        ModelLogPosterior<Batch> likelihood = builder().build();
        try (Autodiff.ValueAndGrad a = Autodiff.valueAndGrad(analytic, params, batch);
                Autodiff.ValueAndGrad l = Autodiff.valueAndGrad(lambda, params, batch);
                Autodiff.ValueAndGrad ll = Autodiff.valueAndGrad(likelihood, params, batch)) {
            assertEquals(Scalars.value(l.value()), Scalars.value(a.value()), 1e-12, "value");
            assertTrue(a.grad().allClose(l.grad(), 1e-12, 1e-12), "gradient vs autograd");
            // closed form, element by element in Java doubles
            for (String k : params.names()) {
                double[] theta = params.get(k).toDoubleArray();
                double[] mu = mean.get(k).toDoubleArray();
                double[] s = sd.get(k).toDoubleArray();
                double[] gl = ll.grad().get(k).toDoubleArray();
                double[] ga = a.grad().get(k).toDoubleArray();
                for (int i = 0; i < theta.length; i++) {
                    double expected = gl[i] - (theta[i] - mu[i]) / (s[i] * s[i] * N);
                    assertEquals(expected, ga[i], 1e-12, k + "[" + i + "]");
                }
            }
            // value: mean log likelihood + log prior / N, the prior summed by hand
            double logPrior = 0;
            for (String k : params.names()) {
                double[] theta = params.get(k).toDoubleArray();
                double[] mu = mean.get(k).toDoubleArray();
                double[] s = sd.get(k).toDoubleArray();
                for (int i = 0; i < theta.length; i++) {
                    double z = (theta[i] - mu[i]) / s[i];
                    logPrior += -0.5 * z * z - Math.log(s[i]) - 0.5 * Math.log(2 * Math.PI);
                }
            }
            assertEquals(
                    Scalars.value(ll.value()) + logPrior / N,
                    Scalars.value(a.value()),
                    1e-10,
                    "value vs closed form");
        }
    }

    @Test
    void isotropicZeroMean_matchesAutogradAndClosedForm() {
        assertMatches(GaussianPrior.isotropic(0, 1), constantTree(0), constantTree(1));
    }

    @Test
    void isotropicShifted_matchesAutogradAndClosedForm() {
        assertMatches(GaussianPrior.isotropic(0.3, 0.7), constantTree(0.3), constantTree(0.7));
    }

    @Test
    void diagonal_matchesAutogradAndClosedForm() {
        TensorTree mean = rampTree(-0.2);
        TensorTree sd = rampTree(0.5);
        assertMatches(GaussianPrior.diagonal(mean, sd), mean, sd);
    }

    @Test
    void perSampleMoments_withAnalyticPrior_equalGenericPath() {
        ModelLogPosterior<Batch> f = builder().prior(GaussianPrior.isotropic(0.1, 0.8), N).build();
        ModelLogPosterior<Batch> ps = f.perSample();
        LogProbFn<Batch> opaque = (p, b) -> ps.apply(p, b);
        long before = ps.probing().calls();
        try (Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(ps, params, batch);
                Autodiff.GradMoments generic =
                        Autodiff.perSampleGradMoments(opaque, params, batch)) {
            assertEquals(before + 1, ps.probing().calls(), "fast path taken");
            assertTrue(fast.values().allClose(generic.values(), 1e-12, 1e-12, false));
            assertTrue(fast.sum().allClose(generic.sum(), 1e-10, 1e-12), "sum");
            assertTrue(fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-10, 1e-12));
        }
    }

    @Test
    void hessian_seesThePrior() {
        // generic paths differentiate the prior through autograd: the HVP of the analytic and the
        // lambda log posterior agree, and the prior adds -v / (σ² N)
        ModelLogPosterior<Batch> analytic =
                builder().prior(GaussianPrior.isotropic(0, 0.5), N).build();
        ModelLogPosterior<Batch> none = builder().build();
        TensorTree v = constantTree(1);
        try (TensorTree h1 = Autodiff.hvp(analytic, params, batch, v);
                TensorTree h0 = Autodiff.hvp(none, params, batch, v)) {
            for (String k : params.names()) {
                double[] a = h1.get(k).toDoubleArray();
                double[] b = h0.get(k).toDoubleArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(b[i] - 1 / (0.25 * N), a[i], 1e-10, k + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void badInput_isRejectedByName() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> GaussianPrior.isotropic(0, 0));
        assertTrue(e.getMessage().contains("sd"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> GaussianPrior.isotropic(Double.NaN, 1),
                "mean");
        TensorTree sd = constantTree(1);
        sd.get(sd.names().get(0)).set(new ai.djl.ndarray.index.NDIndex("0"), -1.0);
        IllegalArgumentException neg =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> GaussianPrior.diagonal(constantTree(0), sd));
        assertTrue(neg.getMessage().contains(sd.names().get(0)), neg.getMessage());
    }
}
