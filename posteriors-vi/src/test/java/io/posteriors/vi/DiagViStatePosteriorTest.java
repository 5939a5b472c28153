package io.posteriors.vi;

import ai.djl.ndarray.NDManager;
import io.posteriors.optim.Adam;
import io.posteriors.testing.GaussianPosteriorContract;

/** The shared Gaussian posterior contract for {@link DiagViState} (float64, three parameters). */
class DiagViStatePosteriorTest implements GaussianPosteriorContract<DiagViState> {

    @Override
    public DiagViState posterior(NDManager manager) {
        return DiagVi.builder(Gaussians.diagLogProb(), Adam.of(1e-2))
                .initLogSds(Gaussians.tree(manager, Math.log(0.5), Math.log(2), 0.1))
                .build()
                .init(Gaussians.tree(manager, 1, -2, 3));
    }
}
