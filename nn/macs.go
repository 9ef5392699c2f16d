package nn

// MACs returns the multiply-accumulates of one call on a batch of one
// whose output has shape out ([1, OH, OW, Out]): OH·OW·Out·KH·KW·In/Groups,
// the bias not counted (torchvision's convention for its "GFLOPS"). A
// layer that embeds a Conv2D (a masked one, say) counts the same.
func (c *Conv2D) MACs(in, out []int) int64 {
	if len(out) != 4 {
		return 0
	}
	k := int64(c.Cfg.KH) * int64(c.Cfg.KW) * int64(c.Cfg.In/max(c.Cfg.Groups, 1))
	return int64(out[1]) * int64(out[2]) * int64(out[3]) * k
}

// MACs returns the multiply-accumulates of one call on a batch of one:
// In·Out, the bias not counted.
func (d *Dense) MACs(in, out []int) int64 { return int64(d.Cfg.In) * int64(d.Cfg.Out) }
