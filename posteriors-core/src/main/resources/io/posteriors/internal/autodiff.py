class Autodiff(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  def forward(self: __torch__.Autodiff, x: Tensor) -> Tensor:
    return x
  def _dense(self: __torch__.Autodiff, gs: List[Optional[Tensor]], xs: List[Tensor]) -> List[Tensor]:
    out = annotate(List[Tensor], [])
    for i in range(len(xs)):
      g = gs[i]
      if g is None:
        out.append(torch.zeros_like(xs[i]))
      else:
        out.append(g)
    return out
  def vjp(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    gos = annotate(List[Optional[Tensor]], [])
    for v in vs:
      gos.append(v)
    gs = torch.autograd.grad(ys, xs, gos, True, False, True)
    return self._dense(gs, xs)
  def vjp_graph(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    gos = annotate(List[Optional[Tensor]], [])
    for v in vs:
      gos.append(v)
    gs = torch.autograd.grad(ys, xs, gos, True, True, True)
    return self._dense(gs, xs)
  def jacobian(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor]) -> List[Tensor]:
    y = ys[0]
    n = y.size(0)
    rows = annotate(List[List[Tensor]], [])
    for j in range(len(xs)):
      rows.append(annotate(List[Tensor], []))
    for i in range(n):
      gs = torch.autograd.grad([y[i]], xs, None, True, False, True)
      dense = self._dense(gs, xs)
      for j in range(len(xs)):
        rows[j].append(dense[j])
    out = annotate(List[Tensor], [])
    for j in range(len(xs)):
      if n == 0:
        out.append(torch.zeros([0] + xs[j].size(), dtype=xs[j].dtype, device=xs[j].device))
      else:
        out.append(torch.stack(rows[j], 0))
    return out
  def cholesky(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    return [torch.linalg_cholesky(ys[0])]
  def cholesky_ex(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    l, info = torch.linalg_cholesky_ex(ys[0])
    return [l, info]
  def tril(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    return [torch.tril(ys[0])]
  def solve_lower(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    return [torch.linalg_solve_triangular(ys[0], ys[1], upper=False)]
  def solve_upper(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    return [torch.linalg_solve_triangular(ys[0], ys[1], upper=True)]
  def eigh(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    w, v = torch.linalg_eigh(ys[0])
    return [w, v]
  def tril_indices(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    n = ys[0].size(0)
    return [torch.tril_indices(n, n, 0, device=ys[0].device)]
  def langevin_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    c = vs[0]
    a = float(c[0])
    b = float(c[1])
    sd = float(c[2])
    for i in range(len(ys)):
      y = ys[i]
      if a != 1.0:
        y.mul_(a)
      if b != 0.0:
        y.add_(xs[i], alpha=b)
      if sd > 0.0:
        y.add_(torch.empty_like(y).normal_(0.0, sd))
    return annotate(List[Tensor], [])
  def axpy_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    c = vs[0]
    a = float(c[0])
    b = float(c[1])
    for i in range(len(ys)):
      ys[i].add_(xs[i], alpha=a)
      if b != 0.0:
        ys[i].add_(b)
    return annotate(List[Tensor], [])
  def momentum_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    n = len(ys)
    c = vs[n]
    decay = float(c[0])
    eps = float(c[1])
    sd = float(c[2])
    drift = float(c[3])
    for i in range(n):
      m = xs[i]
      if decay != 1.0:
        m.mul_(decay)
      m.add_(vs[i], alpha=eps)
      if sd > 0.0:
        m.add_(torch.empty_like(m).normal_(0.0, sd))
      ys[i].add_(m, alpha=drift)
    return annotate(List[Tensor], [])
  def scale_noise_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor]) -> List[Tensor]:
    c = xs[0]
    a = float(c[0])
    sd = float(c[2])
    for i in range(len(ys)):
      y = ys[i]
      if a != 1.0:
        y.mul_(a)
      if sd > 0.0:
        y.add_(torch.empty_like(y).normal_(0.0, sd))
    return annotate(List[Tensor], [])
  def sum_sq(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor]) -> List[Tensor]:
    shift = float(xs[0][0])
    total = ys[0].new_zeros([]).double()
    for y in ys:
      f = y.reshape([-1])
      if shift != 0.0:
        f = f - shift
      total = total + torch.dot(f, f).double()
    return [total]
  def adam_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    n = len(ys)
    c = vs[n]
    rate = float(c[0])
    b1 = float(c[1])
    b2 = float(c[2])
    eps = float(c[3])
    t = float(c[4])
    wd = float(c[5])
    ms = xs[0:n]
    vv = xs[n:2 * n]
    gs = vs[0:n]
    steps = annotate(List[Tensor], [])
    for i in range(n):
      steps.append(torch.full(annotate(List[int], []), t, dtype=ys[i].dtype, device=ys[i].device))
    torch._fused_adamw_(ys, gs, ms, vv, annotate(List[Tensor], []), steps, lr=rate, beta1=b1, beta2=b2, weight_decay=wd, eps=eps, amsgrad=False, maximize=False)
    return annotate(List[Tensor], [])
  def reparam(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    out = annotate(List[Tensor], [])
    for i in range(len(ys)):
      out.append(torch.addcmul(ys[i], torch.exp(xs[i]), vs[i]))
    return out
  def diag_elbo_grad(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    p = len(ys)
    c = vs[len(vs) - 1]
    t = float(c[0])
    stl = float(c[1]) != 0.0
    n = int(c[2])
    gmu = annotate(List[Tensor], [])
    gls = annotate(List[Tensor], [])
    eps_sq = ys[0].new_zeros([]).double()
    ls_sum = ys[0].new_zeros([]).double()
    for i in range(p):
      ls = ys[i]
      e = xs[i]
      sd = torch.exp(ls)
      if n == 1:
        g = vs[i]
        es = e[0]
        if stl and t != 0.0:
          acc_mu = torch.addcdiv(g, es, sd, value=t)
        else:
          acc_mu = g.clone()
        acc_ls = torch.mul(acc_mu, sd).mul_(es).neg_()
        acc_mu.neg_()
      else:
        acc_mu = torch.zeros_like(ls)
        acc_ls = torch.zeros_like(ls)
        for s in range(n):
          g = vs[s * p + i]
          es = e[s]
          if stl and t != 0.0:
            d = torch.addcdiv(g, es, sd, value=t)
          else:
            d = g
          acc_mu.add_(d)
          acc_ls.addcmul_(d, sd * es)
        acc_mu.mul_(-1.0 / n)
        acc_ls.mul_(-1.0 / n)
      if (not stl) and t != 0.0:
        acc_ls.sub_(t)
      gmu.append(acc_mu)
      gls.append(acc_ls)
      f = e.reshape([-1])
      eps_sq = eps_sq + torch.dot(f, f).double()
      ls_sum = ls_sum + ls.sum().double()
    return gmu + gls + [eps_sq, ls_sum]
  def diag_filter_(self: __torch__.Autodiff, ys: List[Tensor], xs: List[Tensor], vs: List[Tensor]) -> List[Tensor]:
    p = len(ys)
    c = vs[2 * p]
    lr = float(c[0])
    n = float(c[1])
    tv = float(c[2])
    for i in range(p):
      x = ys[i]
      sd = xs[i]
      var = sd.square()
      if tv != 0.0:
        var.add_(tv)
      denom = vs[p + i].mul(lr / n).mul_(var).add_(1.0)
      var.div_(denom)
      x.addcmul_(var, vs[i], value=lr / n)
      sd.copy_(var.sqrt_())
    return annotate(List[Tensor], [])
  def mvn_log_prob(self: __torch__.Autodiff, ys: List[Tensor]) -> List[Tensor]:
    x = ys[0]
    mean = ys[1]
    chol = ys[2]
    d = chol.size(0)
    single = x.dim() == 1
    xx = x
    if single:
      xx = x.reshape([1, d])
    centred = torch.sub(xx, mean)
    z = torch.linalg_solve_triangular(chol, centred.t(), upper=False)
    quad = torch.mul(z.square().sum([0]), -0.5)
    logdet = chol.diagonal().log().sum()
    out = torch.sub(torch.sub(quad, logdet), float(d) * 0.91893853320467267)
    if single:
      out = out.reshape(annotate(List[int], []))
    return [out]
