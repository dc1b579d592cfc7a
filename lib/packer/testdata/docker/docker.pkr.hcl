source "docker" "docker" {
  image = "debian"
}
