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
