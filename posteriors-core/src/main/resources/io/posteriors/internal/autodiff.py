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
