package io.posteriors.examples.quickstart;

import java.util.List;

/** The quick-start entries of posteriors-sgmcmc. */
final class SgmcmcMethods {

    private SgmcmcMethods() {}

    static List<QuickStartMethod> all() {
        return List.of();
    }
}
