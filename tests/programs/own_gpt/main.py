# Written for this project's tests (tests/test_programs.py); not taken from another project.
# A tiny character-level GPT: pre-norm blocks whose causal self-attention is computed either
# by F.scaled_dot_product_attention(is_causal=True) or written out by hand (a lower-triangular
# mask buffer, masked_fill, softmax, dropout); the output layer shares the embedding's weight;
# AdamW with two parameter groups (matrices decayed, biases/norms/embeddings not); a warmup +
# cosine learning rate through LambdaLR; gradient clipping; sampling with multinomial.
# Text: the harness's offline corpus (offline.text()).
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import offline


class CausalAttention(nn.Module):
    def __init__(self, width, heads, context, fused, drop):
        super().__init__()
        self.heads, self.fused = heads, fused
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.attn_drop = nn.Dropout(drop)
        self.register_buffer('allowed', torch.tril(torch.ones(context, context, dtype=torch.bool)))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=-1)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
            scores = scores.masked_fill(~self.allowed[:t, :t], float('-inf'))
            y = self.attn_drop(scores.softmax(dim=-1)) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, width, heads, context, fused, drop):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = CausalAttention(width, heads, context, fused, drop)
        self.norm2 = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                nn.Linear(4 * width, width), nn.Dropout(drop))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ff(self.norm2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab, width=16, heads=2, context=16, drop=0.1):
        super().__init__()
        self.context = context
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        # one block with the fused attention, one with the hand-written one
        self.blocks = nn.ModuleList([Block(width, heads, context, fused, drop)
                                     for fused in (True, False)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tokens.weight          # weight tying

    def forward(self, idx, targets=None):
        t = idx.shape[1]
        x = self.tokens(idx) + self.positions(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.norm(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    def param_groups(self, decay):
        named = {n: p for n, p in self.named_parameters()}      # tied weight listed once
        matrices = [p for n, p in named.items() if p.dim() >= 2 and 'tokens' not in n
                    and 'positions' not in n]
        others = [p for n, p in named.items() if not any(p is m for m in matrices)]
        return [{'params': matrices, 'weight_decay': decay},
                {'params': others, 'weight_decay': 0.0}]

    @torch.no_grad()
    def sample(self, idx, steps):
        for _ in range(steps):
            logits, _ = self(idx[:, -self.context:])
            probs = F.softmax(logits[:, -1], dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs, 1)], dim=1)
        return idx


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(5)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    text = offline.text(4000)
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)

    print(f'device: {device}')
    model = TinyGPT(len(chars)).to(device)
    opt = torch.optim.AdamW(model.param_groups(0.1), lr=3e-3, betas=(0.9, 0.95))

    def schedule(step):
        if step < args.warmup:
            return (step + 1) / args.warmup
        done = (step - args.warmup) / max(1, args.steps - args.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    ctx = model.context
    for step in range(args.steps):
        model.train()
        starts = torch.randint(len(data) - ctx - 1, (args.batch,))
        x = torch.stack([data[s:s + ctx] for s in starts.tolist()]).to(device)
        y = torch.stack([data[s + 1:s + 1 + ctx] for s in starts.tolist()]).to(device)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        print(f'step {step}: loss {loss.item():.4f}, grad norm {norm.item():.3f}, '
              f'lr {sched.get_last_lr()[0]:.2e}')
    model.eval()
    out = model.sample(torch.zeros((1, 1), dtype=torch.long, device=device), 20)
    print(repr(''.join(chars[i] for i in out[0].tolist())))


if __name__ == '__main__':
    main()
