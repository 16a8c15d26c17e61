# tests/slurm/local.mk -- the Slurm tests: a real local cluster (slurm/cluster/cluster.sh)
# running slurm/train-cpu.sbatch with a stand-in trainer (test_standin_trainer) that obeys
# dyolo's checkpoint/requeue protocol until `dyolo train` exists.
check_PROGRAMS += tests/slurm/test_standin_trainer
tests_slurm_test_standin_trainer_SOURCES = tests/slurm/test_standin_trainer.c

SLURM_TESTS = tests/slurm/standin.sh tests/slurm/submit.sh tests/slurm/dyolo_train.sh tests/slurm/preempt.sh tests/slurm/nodefail.sh \
	tests/slurm/timelimit.sh tests/slurm/dryrun.sh
TESTS += $(SLURM_TESTS)
EXTRA_DIST += $(SLURM_TESTS) tests/slurm/slurm-lib.sh slurm/cluster/cluster.sh \
	slurm/train.sbatch slurm/train-cpu.sbatch slurm/scaling.sbatch slurm/scaling.sh \
	slurm/scaling-collect.sh slurm/README.md
