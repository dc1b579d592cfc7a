# The project's whole toolchain, pinned through npins/ (nix-shell, or direnv
# with `use nix` from .envrc). Update the pin with `npins update nixpkgs`.
{
  sources ? import ./npins,
  pkgs ? import sources.nixpkgs {
    # Terraform and Packer are BSL-licensed, which nixpkgs counts as unfree.
    config.allowUnfreePredicate =
      pkg:
      builtins.elem (pkg.pname or (builtins.parseDrvName pkg.name).name) [
        "terraform"
        "packer"
      ];
  },
}:
pkgs.mkShellNoCC {
  packages = with pkgs; [
    # Go and the task runner
    go_1_26
    mage
    # Images and VMs
    packer
    terraform
    tflint
    terraform-docs
    trivy
    ansible
    ansible-lint
    yamllint
    # Talos and Kubernetes
    talosctl
    kubectl
    kubernetes-helm
    k9s
    fluxcd
    # Secrets
    sops
    age
    # The commit checks (.pre-commit-config.yaml; pre-commit install)
    pre-commit
    # Pin maintenance
    npins
  ];

  shellHook = ''
    # Use the pinned Go, never a toolchain downloaded on the fly.
    export GOTOOLCHAIN=local
  '';
}
