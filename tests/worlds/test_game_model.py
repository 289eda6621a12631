"""GameGAN's parts: the memory's location shift, write and read; rollouts; checkpoints; the
NaN guard; and the palette read-outs the evaluation uses, checked on the true game."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.engine import checkpoint
from introdl.errors import TrainingDiverged, UsageError
from introdl.worlds.game.agent import record_clips
from introdl.worlds.game.evaluate import (
    COVERED,
    FOOD_CELL,
    action_following,
    agent_cells,
    food_memory,
    item_state,
)
from introdl.worlds.game.memory import GridMemory, read, shift
from introdl.worlds.game.model import GameSimulator, SimConfig, load_simulator, save_simulator
from introdl.worlds.game.train import TrainConfig, train_simulator


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def clips():
    return record_clips(24, 4, 0)


def test_shift_moves_attention_one_cell_like_numpy_roll():
    alpha = torch.zeros(2, 1, 6, 6)
    alpha[0, 0, 2, 3] = 1
    alpha[1, 0, 4, 1] = 1
    kernel = torch.zeros(2, 1, 3, 3)
    kernel[0, 0, 1, 0] = 1  # cross-correlation: mass comes from the left -> moves right
    kernel[1, 0, 0, 1] = 1  # from above -> moves down
    out = shift(alpha, kernel)
    assert torch.equal(out[0, 0], torch.roll(alpha[0, 0], 1, dims=1))
    assert torch.equal(out[1, 0], torch.roll(alpha[1, 0], 1, dims=0))
    assert torch.allclose(out.sum((2, 3)), torch.ones(2, 1))


def test_memory_writes_and_reads_at_the_attended_cell():
    mem = GridMemory(frame_channels=3, hidden=4, actions=4, dim=2)
    memory = torch.arange(2 * 4 * 4, dtype=torch.float32).view(1, 2, 4, 4)
    alpha = torch.zeros(1, 1, 4, 4)
    alpha[0, 0, 1, 2] = 1
    assert torch.equal(read(memory, alpha), memory[:, :, 1, 2])
    with torch.no_grad():  # erase everything, add 0.5: only the attended cell changes
        mem.erase.weight.zero_()
        mem.erase.bias.fill_(50.0)
        mem.add.weight.zero_()
        mem.add.bias.fill_(float(np.arctanh(0.5)))
        mem.kernel[-1].bias.copy_(torch.tensor([0, 0, 0, 0, 3.0, 0, 0, 0, 0]))  # stay
    h = torch.randn(1, 4, 4, 4)
    new, a2, m = mem(memory, alpha, h, torch.eye(4)[:1])
    assert torch.allclose(a2, alpha, atol=1e-3)
    changed = (new - memory).abs().sum(1)[0] > 1e-3
    assert changed[1, 2] and changed.sum() == 1
    assert torch.allclose(m, torch.full((1, 2), 0.5), atol=1e-3)


def test_rollout_shapes_noise_and_modes(clips):
    x, a = torch.from_numpy(clips.frames[:3]), torch.from_numpy(clips.actions[:3])
    for mem in (8, 0):
        torch.manual_seed(0)
        model = GameSimulator(SimConfig(memory=mem))
        r = model.rollout(x[:, 0], a, generator=torch.Generator().manual_seed(1))
        assert r.frames.shape == (3, 4, 3, 32, 32) and r.alphas.shape == (3, 4, 1, 8, 8)
        assert r.where.shape == (3, 4, 64)
        assert r.frames.min() >= 0 and r.frames.max() <= 1
        again = model.rollout(x[:, 0], a, generator=torch.Generator().manual_seed(1))
        other = model.rollout(x[:, 0], a, generator=torch.Generator().manual_seed(2))
        assert torch.equal(r.frames, again.frames)
        assert not torch.equal(r.frames, other.frames)  # z: the ghosts' randomness
        shown = model.rollout(x[:, 0], a, real=x, p_real=1.0,
                              generator=torch.Generator().manual_seed(1))
        assert not torch.equal(shown.frames[:, 1:], r.frames[:, 1:])  # real frames shown
        assert torch.equal(shown.frames[:, 0], r.frames[:, 0])
    assert torch.allclose(r.alphas, torch.zeros_like(r.alphas))  # no memory: no location


def _cell_loss(model: GameSimulator, x, a, agent) -> tuple[float, float]:
    """(cross-entropy of the state's cell head, mean -log alpha at the true cell), teacher
    forced on the true frames."""
    with torch.no_grad():
        r = model.rollout(x[:, 0], a, real=x, p_real=1.0,
                          generator=torch.Generator().manual_seed(0))
    cell = agent[:, 1:, 0] * 8 + agent[:, 1:, 1]
    ce = torch.nn.functional.cross_entropy(r.where.flatten(0, 1), cell.flatten()).item()
    at = r.alphas.flatten(2).gather(2, cell[..., None]).clamp_min(1e-6)
    return ce, -torch.log(at).mean().item()


def test_training_lowers_the_loss_and_a_nan_keeps_the_last_checkpoint(clips, tmp_path):
    torch.manual_seed(0)
    model = GameSimulator(SimConfig())
    x, a = torch.from_numpy(clips.frames), torch.from_numpy(clips.actions)
    agent = torch.from_numpy(clips.agent)
    before = _cell_loss(model, x, a, agent)
    ckpt = tmp_path / "game_sim.pt"
    losses = train_simulator(model, x, a, TrainConfig(steps=25, batch_size=8, lr=5e-3,
                                                          save_every=5),
                             0, ckpt, extra={"game": {"n_ghosts": 2}}, agent=agent)
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:3])
    after = _cell_loss(model, x, a, agent)  # the true cell: the state head and alpha learn it
    assert after[0] < 0.95 * before[0] and after[1] < 0.85 * before[1]
    loaded, extra = load_simulator(tmp_path)
    assert extra["game"] == {"n_ghosts": 2} and extra["step"] == 25
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    with torch.no_grad():
        model.renderer.static[0].weight.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="last good checkpoint kept"):
        train_simulator(model, x, a, TrainConfig(steps=3, batch_size=8), 0, ckpt)
    kept, _ = load_simulator(ckpt)
    assert all(torch.isfinite(v).all() for v in kept.state_dict().values())


def test_without_agent_cells_the_cell_head_gets_no_training(clips):
    torch.manual_seed(0)
    model = GameSimulator(SimConfig(memory=0))
    w0 = model.where.weight.detach().clone()
    x, a = torch.from_numpy(clips.frames[:8]), torch.from_numpy(clips.actions[:8])
    train_simulator(model, x, a, TrainConfig(steps=2, batch_size=8, adv_weight=0), 0)
    assert torch.equal(model.where.weight, w0)
    train_simulator(model, x, a, TrainConfig(steps=2, batch_size=8, adv_weight=0), 0,
                    agent=torch.from_numpy(clips.agent[:8]))
    assert not torch.equal(model.where.weight, w0)


def test_checkpoint_is_weights_only_and_bad_ones_are_one_line(tmp_path):
    path = save_simulator(tmp_path / "g.pt", GameSimulator(SimConfig(memory=0)))
    state = torch.load(path, weights_only=True)
    assert state["kind"] == "game-sim" and state["config"]["memory"] == 0
    with pytest.raises(UsageError, match="no game-sim checkpoint"):
        load_simulator(tmp_path / "missing")
    checkpoint.save(tmp_path / "other.pt", {"state_dict": {}})
    with pytest.raises(UsageError, match="not a game-sim checkpoint"):
        load_simulator(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not torch")
    with pytest.raises(UsageError):
        load_simulator(tmp_path / "junk.pt")


def test_palette_readouts_match_the_true_game():
    c = record_clips(20, 6, 3)
    assert (agent_cells(c.frames, 4) == c.agent).all()
    state = item_state(c.frames, 4)
    seen = state != COVERED  # walls, the agent and ghosts cover a cell's centre
    assert seen[np.broadcast_to(~c.walls[:, None], seen.shape)].mean() > 0.9
    assert ((state == FOOD_CELL) == c.food)[seen].all()
    # the true frames follow every action and keep eaten food gone
    free, blocked, n = action_following(c.frames[:, 1:], c, 4)
    assert free == 1.0 and blocked == 1.0 and n > 50
    gone, kept, counted = food_memory(c.frames[:, 1:], c, 4)
    assert gone == 1.0 and kept == 1.0 and counted > 0
    held = np.repeat(c.frames[:, :1], 6, 1)  # a frozen frame fails both the moves and memory
    assert action_following(held, c, 4)[0] == 0.0
    assert food_memory(held, c, 4, c.agent[:, 1:])[0] == 0.0
