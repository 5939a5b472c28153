package io.posteriors.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import io.posteriors.TraceResult;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.sgmcmc.Sghmc;
import io.posteriors.sgmcmc.SghmcState;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.spark.SparkException;
import org.apache.spark.TaskContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Parallel chains and ensembles on {@code local[2,2]}: K SGHMC chains on a Gaussian target pool to
 * its mean and covariance within Monte Carlo error; a chain whose first attempt fails is retried
 * and the pooled samples are bit for bit those of a run without failure; members are seeded by
 * their index.
 */
class SparkChainsTest {

    /** The target N(MEAN, COV), COV's eigenvalues 1.5 and 0.5. */
    private static final double[] MEAN = {1.0, -1.0};

    private static final double[][] COV = {{1.0, 0.5}, {0.5, 1.0}};
    private static final double LAMBDA_MAX = 1.5;

    /** Failures injected by the retry test (executors share this JVM in local mode). */
    private static final AtomicInteger INJECTED = new AtomicInteger();

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /**
     * log N(x | MEAN, COV) up to a constant, summed over the rows of a leaf "x" of shape (C, 2): C
     * independent copies of the target, one chain of each per row.
     */
    private static LogProbFn<Void> gaussian(NDManager m) {
        NDArray mu = m.create(MEAN);
        RealMatrix prec =
                new LUDecomposition(new Array2DRowRealMatrix(COV)).getSolver().getInverse();
        NDArray p = m.create(prec.getData());
        NDArray half = m.zeros(new Shape(), DataType.FLOAT64).addi(-0.5);
        return (params, b) -> {
            NDArray d = params.get("x").sub(mu);
            return LogProb.of(d.matMul(p).mul(d).sum().mul(half));
        };
    }

    /**
     * posteriors' SGHMC scenario settings (ε = 0.1, α = 10, σ = √10): the chain moves like
     * overdamped Langevin dynamics with time step 0.01, so a whitened coordinate along an
     * eigendirection of variance λ has an integrated autocorrelation time of about 200 λ steps.
     * Each chain runs {@code copies} independent copies of the target at once (a (copies, 2) leaf,
     * the block-diagonal target of {@code posteriors-sgmcmc}'s Gaussian test): a step costs the
     * same array operations whatever the number of copies.
     */
    private static ChainRecipe sghmc(int copies, long steps, long burnIn) {
        return ctx -> {
            NDManager m = ctx.manager();
            Transform<SghmcState, Void> t =
                    Sghmc.<Void>builder(gaussian(m), 0.1)
                            .alpha(10.0)
                            .sigma(Math.sqrt(10.0))
                            .beta(0.0)
                            .momenta(0.0)
                            .build();
            NDArray x0 = m.randomNormal(0, 3, new Shape(copies, 2), DataType.FLOAT64);
            TaskContext tc = TaskContext.get();
            if (ctx.index() == 1 && tc != null && tc.attemptNumber() == 0 && steps < 1_000) {
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure of a first attempt");
            }
            try (TraceResult<SghmcState> r =
                    Trace.builder(t, steps)
                            .burnIn(burnIn)
                            .build()
                            .run(TensorTree.of("x", x0), Collections.singletonList(null))) {
                return r.posterior();
            }
        };
    }

    @Tag("slow")
    @Test
    void sample_sghmcChainsOnGaussianTarget_poolToItsMeanAndCovariance() {
        int k = 8;
        int copies = 16;
        long steps = 8_000;
        long burnIn = 2_000;
        try (SamplePosterior pooled =
                SparkChains.builder(TestSpark.session(), k)
                        .seed(11)
                        .build()
                        .sample(sghmc(copies, steps, burnIn), manager)) {
            assertEquals((steps - burnIn) * k, pooled.size());
            long n = (steps - burnIn) * k * copies;
            double[] x = pooled.samples().get("x").toDoubleArray();
            double[] mean = new double[2];
            for (int i = 0; i < n; i++) {
                mean[0] += x[2 * i] / n;
                mean[1] += x[2 * i + 1] / n;
            }
            double[][] cov = new double[2][2];
            for (int i = 0; i < n; i++) {
                double a = x[2 * i] - mean[0];
                double b = x[2 * i + 1] - mean[1];
                cov[0][0] += a * a / (n - 1);
                cov[0][1] += a * b / (n - 1);
                cov[1][1] += b * b / (n - 1);
            }
            cov[1][0] = cov[0][1];
            // whitened coordinates: L⁻¹ (m − μ) and L⁻¹ C L⁻ᵀ − I, Σ = L Lᵀ
            RealMatrix l = new CholeskyDecomposition(new Array2DRowRealMatrix(COV)).getL();
            RealMatrix li = new LUDecomposition(l).getSolver().getInverse();
            double[] wm = li.operate(new double[] {mean[0] - MEAN[0], mean[1] - MEAN[1]});
            RealMatrix wc = li.multiply(new Array2DRowRealMatrix(cov)).multiply(li.transpose());
            double covErr = 0;
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    covErr = Math.max(covErr, Math.abs(wc.getEntry(i, j) - (i == j ? 1 : 0)));
                }
            }
            double meanErr = Math.max(Math.abs(wm[0]), Math.abs(wm[1]));
            // the standard error of a whitened mean is sqrt(τ / n) with τ ≈ 200 λ steps; that of
            // a whitened variance, sqrt(2 τ₂ / n) with τ₂ ≈ 100 λ, is the same; the checks are
            // at 4.5 standard errors (the discretisation bias of SGHMC here is below 0.05%)
            double se = Math.sqrt(200 * LAMBDA_MAX / n);
            double tol = 4.5 * se;
            String report =
                    String.format(
                            Locale.ROOT,
                            "K=%d x %d copies n=%d se=%.4f tol=%.4f: whitened mean error %.4f, whitened"
                                    + " covariance error %.4f; mean (%.4f, %.4f), cov [[%.4f,"
                                    + " %.4f], [%.4f, %.4f]]",
                            k,
                            copies,
                            n,
                            se,
                            tol,
                            meanErr,
                            covErr,
                            mean[0],
                            mean[1],
                            cov[0][0],
                            cov[0][1],
                            cov[1][0],
                            cov[1][1]);
            System.out.println(report);
            assertTrue(meanErr < tol, report);
            assertTrue(covErr < tol, report);
        }
    }

    @Test
    void sample_chainFailsOnceAndIsRetried_samplesBitForBitUnchanged() {
        INJECTED.set(0);
        SparkChains chains = SparkChains.builder(TestSpark.context(), 4).seed(5).build();
        try (SamplePosterior retried = chains.sample(sghmc(1, 600, 100), manager)) {
            assertEquals(1, INJECTED.get(), "exactly one attempt failed");
            List<SamplePosterior> clean = chains.sampleChains(sghmc(1, 600, 100), manager);
            assertEquals(2, INJECTED.get(), "the clean run's chain 1 failed once as well");
            try (SamplePosterior pooled = SamplePosterior.pool(clean)) {
                assertEquals(4 * 500, retried.size());
                assertArrayEquals(
                        pooled.samples().get("x").toDoubleArray(),
                        retried.samples().get("x").toDoubleArray());
            } finally {
                clean.forEach(SamplePosterior::close);
            }
            // the chains are independent: different seeds, different samples
            double[] x = retried.samples().get("x").toDoubleArray();
            assertNotEquals(x[0], x[2 * 500]);
        }
    }

    /** An ensemble member: Adam on the Gaussian target's log density from a random start. */
    private static OptimizeState member(ChainContext ctx) {
        NDManager m = ctx.manager();
        Optimize<Void> t = Optimize.builder(gaussian(m), Adam.of(0.05)).build();
        OptimizeState s =
                t.init(TensorTree.of("x", m.randomNormal(0, 3, new Shape(2), DataType.FLOAT64)));
        for (int i = 0; i < 20; i++) {
            s = t.updateInPlace(s, null).state();
        }
        return s;
    }

    @Test
    void ensemble_membersSeededByIndex_equalMembersRunLocally() {
        int k = 3;
        SparkChains chains = SparkChains.builder(TestSpark.session(), k).seed(7).build();
        try (SamplePosterior ensemble =
                chains.ensemble(SparkChainsTest::member, OptimizeState.class, manager)) {
            assertEquals(k, ensemble.size());
            for (int i = 0; i < k; i++) {
                int seed = SparkChains.chainSeed(7, i);
                Engine.getInstance().setRandomSeed(seed);
                try (NDManager m = NDManager.newBaseManager();
                        OptimizeState local = member(new ChainContext(i, seed, m));
                        TensorTree remote = ensemble.get(i)) {
                    assertArrayEquals(
                            local.params().get("x").toDoubleArray(),
                            remote.get("x").toDoubleArray(),
                            "member " + i);
                }
            }
        }
    }

    @Test
    void chainSeed_dependsOnIndexAndSeedOnly() {
        assertEquals(SparkChains.chainSeed(3, 0), SparkChains.chainSeed(3, 0));
        assertNotEquals(SparkChains.chainSeed(3, 0), SparkChains.chainSeed(3, 1));
        assertNotEquals(SparkChains.chainSeed(3, 0), SparkChains.chainSeed(4, 0));
        assertThrows(IllegalArgumentException.class, () -> SparkChains.chainSeed(3, -1));
    }

    @Test
    void builder_badInput_refused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> SparkChains.builder(TestSpark.session(), 0));
        assertTrue(e.getMessage().contains("chains"), e.getMessage());
        assertThrows(
                NullPointerException.class,
                () -> SparkChains.builder((org.apache.spark.sql.SparkSession) null, 2));
        SparkChains chains = SparkChains.builder(TestSpark.session(), 1).build();
        assertThrows(NullPointerException.class, () -> chains.sample(null, manager));
        SparkException failed =
                assertThrows(SparkException.class, () -> chains.sample(ctx -> null, manager));
        assertTrue(failed.getMessage().contains("returned null"), failed.getMessage());
    }
}
