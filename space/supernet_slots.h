// Where an operation sits in a space, independently of the other choices: the key under which a
// weight-sharing supernet keeps the weights of that place (evaluator/supernet.h).
#pragma once

#include <string>
#include <vector>

#include "space/search_space.h"

namespace paretonas::space {

/// Per edge id of `space.Plan(g)`: the edge's slot, or "" for edges without weights (none,
/// skip_connect, pooling). A slot names the place, not the choice made there:
/// - cell edges: "stage0.cell1.node2<-1/nor_conv_3x3": every operation of every cell edge is a
///   slot of its own (single path: the ops of one edge share nothing);
/// - chain blocks: "stage2.block1": the block's kernel and expansion are elastic (one slot for
///   every choice; block b exists while the stage's depth exceeds b);
/// - fixed operations: their vertex ("stem", "stage1.reduction", "head0", "output").
/// Channels follow the width multiplier: a slot holds the widest and a narrower choice uses its
/// first channels.
std::vector<std::string> SupernetSlots(const SearchSpace& space, const Genotype& g);

/// True for a slot of a cell edge (its operation is part of the slot's name).
bool IsCellSlot(const std::string& slot);

}  // namespace paretonas::space
